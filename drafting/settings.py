"""One settings object for the whole package.

Every value can be set from the environment with the ``DRAFTING_`` prefix; nested groups use a
double underscore (``DRAFTING_RETRIEVAL__K=8``).  The flat names promised in the README
(``DRAFTING_STORE``, ``DRAFTING_CHROMA_URL``, ``DRAFTING_EMBED_BASE_URL``...) are top-level fields.
Nothing here touches the environment or the disk at import time: call :func:`get_settings`.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ChunkingSettings(BaseModel):
    max_tokens: int = Field(360, description="token budget per chunk (tiktoken cl100k_base)")
    min_chars: int = Field(40, description="sections shorter than this are merged into a neighbour")


class RetrievalSettings(BaseModel):
    k: int = 5
    candidates: int = Field(40, description="hits taken from each index before fusion")
    rrf_k: int = 60
    dense_weight: float = 1.0
    keyword_weight: float = 1.5
    mmr_lambda: float = Field(0.7, description="1.0 = pure relevance, lower = more diversity")
    exemplars: int = Field(6, description="past passages retrieved as exemplars for one drafted section")


class LedgerSettings(BaseModel):
    match: float = Field(
        0.6, description="indicator similarity from which two wordings count as one indicator")
    min_digits: int = Field(
        2, description="a figure repeating last year's value is flagged as stale only with this "
        "many significant digits (9% recurs by chance, 3,200 套 does not)")
    enabled: bool = Field(
        True, description="build the figure ledger at ingest and run the ledger and policy-citation "
        "checks on every draft")
    year: int | None = Field(
        None, description="the year drafts are about (default: this year); the CLI's --year overrides it")
    issuer: str = Field("", description="the issuer whose published figures drafts are checked against; "
                        "empty: the issuer with the most figures in the store")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DRAFTING_", env_nested_delimiter="__", extra="ignore")

    store: Path = Field(Path("vectorstore"), description="persistent store folder (Chroma + keyword index)")
    chroma_url: str | None = Field(None, description="http://host:port of a `chroma run` server")
    collection: str = "drafting_chunks"

    embed_base_url: str | None = Field(None, description="OpenAI-compatible embedding endpoint")
    embed_model: str | None = None
    embed_api_key: str | None = Field(None, repr=False)  # never in a repr, log line or error detail
    embed_dim: int = Field(
        768, description="dimension of the built-in hashed embedder for a new store; a store "
        "keeps the dimension it was built with (`drafting store migrate --dim N` changes it). "
        "256 holds the dense index of a 100× archive in about a third of the memory, at a "
        "measured cost in retrieval quality (docs/benchmarks.md, memory at 100×)")

    engine: str | None = Field(
        None, description="offline | openai | local; default: openai if an LLM URL is set, "
        "else local if a GGUF is set, else offline")
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible chat endpoint, e.g. http://127.0.0.1:8080/v1")
    llm_model: str | None = None
    llm_api_key: str | None = Field(None, repr=False)  # never in a repr, log line or error detail
    llm_gguf: Path | None = Field(None, description="GGUF file for the in-process `local` engine")
    llm_context_tokens: int = Field(8192, description="model context window; prompts are trimmed to fit")
    llm_max_tokens: int = Field(1200, description="upper bound on generated tokens")
    llm_connect_timeout: float = 5.0
    llm_read_timeout: float = Field(60.0, description="seconds without a byte before a stream is abandoned")
    llm_retries: int = Field(2, description="retries on 429/5xx/connection errors, with exponential backoff")

    max_file_mb: float = Field(20.0, description="files larger than this are refused at ingest")
    max_bullet_chars: int = Field(
        600, description="one bullet longer than this is refused: a bullet is one fact, "
        "not a pasted section (a 5,000-character bullet was echoed as a draft)")

    office: str = Field(
        "市住房和城乡建设局", description="the writer's issuing office: named in the model's system "
        "prompt and the default 落款 of an exported document")
    outline_min_docs: int = Field(
        2, description="an outline is mined from at least this many past documents of a "
        "type; with fewer, the nearest type's documents are added (and the writer told)")

    data_dir: Path = Field(Path("data"), description="per-user history (SQLite, WAL) and exports")
    users_file: Path | None = Field(
        None, description="JSON users file (hashed passwords); required beyond 127.0.0.1")
    host: str = Field("127.0.0.1", description="address the UI binds to")
    port: int = 7860
    trusted_proxies: str = Field(
        "", description="comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For names the client (login limits per address); empty = trust none")
    max_editor_chars: int = Field(
        20_000, description="largest text the 起草 editor saves and checks: one report section")
    upload_quota_mb: float = Field(
        1000.0, description="per user: MB uploaded within upload_keep_hours, "
        "counted against Gradio's temp folder")
    upload_keep_hours: float = Field(
        6.0, description="Gradio's temp copies of uploads and downloads are deleted after this many hours")

    chunking: ChunkingSettings = ChunkingSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    ledger: LedgerSettings = LedgerSettings()

    def engine_name(self) -> str:
        if self.engine:
            return self.engine
        if self.llm_base_url:
            return "openai"
        if self.llm_gguf:
            return "local"
        return "offline"

    def store_path(self) -> Path:
        return Path(self.store).expanduser()

    def keyword_path(self) -> Path:
        return self.store_path() / "keyword"

    def ledger_path(self) -> Path:
        return self.store_path() / "ledger"

    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser()

    def trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]


def get_settings(**overrides: object) -> Settings:
    """Read settings from the environment; keyword overrides win (tests point paths at tmp_path)."""
    return Settings(**overrides)  # type: ignore[arg-type]  # pydantic validates each override at run time


def offline_environment() -> None:
    """Make the libraries we embed stay off the network.  Called by entry points, never on import."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    # LangChain would send prompts to LangSmith if tracing were switched on in the environment.
    os.environ["LANGSMITH_TRACING"] = "false"
    os.environ["LANGCHAIN_TRACING_V2"] = "false"
