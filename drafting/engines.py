"""Drafting engines behind one narrow seam: ``Engine.stream(messages) -> Iterator[str]``.

Like ``Model.execute`` in simonw/llm, a backend implements only :class:`Engine`; everything
above it (prompting, checking, the UI) sees plain text deltas.  LangChain/openai stay inside
:class:`OpenAIEngine`, llama-cpp-python inside :class:`LocalEngine`.  The ``offline`` composer
lives in its own module and is handed to :func:`make_engine` as a factory.

Every failure a writer can see is an :class:`~drafting.errors.EngineError` (or subclass) with a
Chinese ``help_message``; ``partial`` holds the text already streamed, so a draft cut off half
way is never lost.  ``detail`` is short (exception class and HTTP status) and never holds the
API key.

OpenAI-compatible endpoint, how failures are handled:

* connect timeout ``llm_connect_timeout``; read timeout ``llm_read_timeout`` = longest silence
  between two bytes, so a slow but steady stream completes and a hung one ends.
* 429, 5xx and connection errors *before the first delta* are retried ``llm_retries`` times with
  exponential backoff (``backoff * 2**attempt``); the SDK's own retries are off so the count is
  ours.  Once text has been yielded nothing is retried (text is never duplicated).  Timeouts
  are not retried either: a server that hung once is waited on only once.
* a stream that ends without a ``finish_reason`` (connection dropped before ``[DONE]``) raises
  :class:`EngineError` with the partial text.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

import httpx

from drafting.errors import (
    ConfigError,
    EngineError,
    EngineTimeoutError,
    EngineUnavailableError,
)

if TYPE_CHECKING:
    from drafting.settings import Settings

log = logging.getLogger(__name__)

ROLES = ("system", "user", "assistant")
ENGINE_NAMES = ("offline", "openai", "local")


@dataclass(frozen=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown message role {self.role!r}; expected one of {ROLES}")


@runtime_checkable
class Engine(Protocol):
    name: str  # "openai" | "local" | "offline"

    def stream(self, messages: list[Message], *, max_tokens: int | None = None) -> Iterator[str]:
        """Yield text deltas; raise :class:`EngineError` (with ``partial``) on failure."""
        ...

    def describe(self) -> str:
        """A Chinese one-liner naming the engine, for the UI."""
        ...

    def health(self) -> tuple[bool, str]:
        """Whether the engine can be used now, and a Chinese message saying why (not)."""
        ...


def collect(
    engine: Engine,
    messages: list[Message],
    *,
    on_delta: Callable[[str], None] | None = None,
    max_tokens: int | None = None,
) -> str:
    """Drain ``engine.stream``; on failure re-raise the :class:`EngineError` with ``partial`` set."""
    parts: list[str] = []
    try:
        for delta in engine.stream(messages, max_tokens=max_tokens):
            parts.append(delta)
            if on_delta is not None:
                on_delta(delta)
    except EngineError as exc:
        exc.partial = "".join(parts)
        raise
    return "".join(parts)


def make_engine(
    settings: Settings,
    name: str | None = None,
    *,
    offline_factory: Callable[[], Engine] | None = None,
) -> Engine:
    """The engine named by ``name`` (e.g. ``--engine``) or else by the settings."""
    chosen = (name or settings.engine_name()).strip().lower()
    if chosen == "offline":
        if offline_factory is None:
            raise ConfigError("offline 引擎未接入（程序内部未提供离线拟稿模块）。请改用 openai 或 local "
                              "引擎。")
        return offline_factory()
    if chosen == "openai":
        if not settings.llm_base_url:
            raise ConfigError(
                "使用 openai 引擎需要设置 DRAFTING_LLM_BASE_URL，指向兼容 OpenAI 的模型服务"
                "（例如 http://127.0.0.1:8080/v1），可同时设置 DRAFTING_LLM_MODEL 与 DRAFTING_LLM_API_KEY；"
                "也可以改用 offline 引擎。"
            )
        return OpenAIEngine(settings)
    if chosen == "local":
        gguf = settings.llm_gguf
        if gguf is None:
            raise EngineUnavailableError(
                "使用 local 引擎需要设置 DRAFTING_LLM_GGUF，指向本机的 GGUF 模型文件；也可以改用 offline "
                "引擎。"
            )
        if not Path(gguf).expanduser().is_file():
            raise EngineUnavailableError(
                f"找不到本地模型文件 {Path(gguf).name}。请检查 DRAFTING_LLM_GGUF 所指的路径是否正确、"
                "文件是否已拷贝到本机；"
                "也可以改用 offline 引擎。"
            )
        return LocalEngine(settings)
    raise ConfigError(f"未知的引擎“{chosen}”。请把 DRAFTING_ENGINE（或 --engine）设为 offline、openai 或 "
                      "local 之一。")


def _limit(max_tokens: int | None, settings: Settings) -> int:
    """Requested token budget, bounded by ``llm_max_tokens``."""
    cap = settings.llm_max_tokens
    return cap if max_tokens is None else max(1, min(max_tokens, cap))


def _safe_url(url: str) -> str:
    """The URL without user info, query or fragment, fit for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def _detail(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__} HTTP {status}" if status else type(exc).__name__


# --------------------------------------------------------------------------------------------
# openai: any OpenAI-compatible endpoint, through LangChain's ChatOpenAI


class _Truncated(Exception):
    """The stream ended without a finish_reason: the connection dropped before [DONE]."""


_CUT_HELP = (
    "模型服务在输出途中断开了连接，已生成的部分已保留。请检查模型服务是否崩溃、重启或内存不足（查看其日志），"
    "然后重试；也可以改用 offline 引擎。"
)
_GARBAGE_HELP = (
    "模型服务返回的内容无法解析，可能不是兼容 OpenAI 的接口。请确认 DRAFTING_LLM_BASE_URL 指向兼容 OpenAI "
    "的地址"
    "（通常以 /v1 结尾），并查看模型服务的日志；也可以改用 offline 引擎。"
)


class OpenAIEngine:
    """Streams from an OpenAI-compatible chat endpoint (llama.cpp server, vLLM, Ollama, ...)."""

    name = "openai"

    def __init__(self, settings: Settings, *, backoff: float = 0.5) -> None:
        import openai
        from langchain_openai import ChatOpenAI

        if not settings.llm_base_url:
            raise ConfigError("使用 openai 引擎需要设置 DRAFTING_LLM_BASE_URL（例如 http://127.0.0.1:8080/v1）。")
        self.settings = settings
        self.base_url = settings.llm_base_url.rstrip("/")
        self.model = settings.llm_model or "default"
        self.retries = max(0, settings.llm_retries)
        self.backoff = backoff
        # openai>=3 runs on httpx2, so the timeout is built from the SDK's own Timeout class: a
        # plain httpx.Timeout ends up nested inside httpx2.Timeout in the client LangChain builds.
        timeout = openai.Timeout(
            connect=settings.llm_connect_timeout,
            read=settings.llm_read_timeout,
            write=settings.llm_read_timeout,
            pool=settings.llm_connect_timeout,
        )
        self._llm = ChatOpenAI(
            model=self.model,
            base_url=self.base_url,
            api_key=settings.llm_api_key or "not-needed",
            timeout=timeout,
            max_retries=0,
            streaming=True,
            stream_usage=False,
            use_responses_api=False,
        )

    def describe(self) -> str:
        return f"openai：{self.model} @ {_safe_url(self.base_url)}"

    def health(self) -> tuple[bool, str]:
        url = _safe_url(self.base_url)
        headers = ({"Authorization": f"Bearer {self.settings.llm_api_key}"} if self.settings.llm_api_key
            else {})
        base = httpx.URL(self.base_url)
        models = base.copy_with(path=base.path.rstrip("/") + "/models")
        try:
            response = httpx.get(models, headers=headers,
                                 timeout=httpx.Timeout(self.settings.llm_connect_timeout))
        except httpx.TimeoutException:
            return False, (
                f"模型服务 {url} 在 {self.settings.llm_connect_timeout:g} 秒内没有响应。"
                "请确认服务已启动且没有卡住。"
            )
        except httpx.HTTPError:
            return False, (f"连接不上模型服务 {url}。请确认服务已启动，"
                           "并检查 DRAFTING_LLM_BASE_URL 的地址和端口。")
        if response.status_code in (401, 403):
            return False, (f"模型服务 {url} 拒绝访问（HTTP {response.status_code}）。"
                           "请检查 DRAFTING_LLM_API_KEY。")
        if response.status_code != 200:
            return False, (
                f"模型服务 {url} 有响应，但 /models 返回 HTTP {response.status_code}。"
                "请确认 DRAFTING_LLM_BASE_URL 指向兼容 OpenAI 的接口（通常以 /v1 结尾）。"
            )
        return True, f"模型服务可以连接：{self.describe()}"

    def stream(self, messages: list[Message], *, max_tokens: int | None = None) -> Iterator[str]:
        import openai

        lc_messages = _to_langchain(messages)
        limit = _limit(max_tokens, self.settings)
        received: list[str] = []
        retryable = (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError,
                     httpx.TransportError)
        attempt = 0
        while True:
            try:
                yield from self._one_request(lc_messages, limit, received)
                return
            except (openai.APITimeoutError, httpx.TimeoutException) as exc:
                raise self._error(exc, received) from exc
            except retryable as exc:
                if received or attempt >= self.retries:
                    raise self._error(exc, received, tries=attempt + 1) from exc
                delay = self.backoff * 2**attempt
                log.warning("model request failed (%s); retry %d/%d in %.2fs", _detail(exc), attempt + 1,
                            self.retries, delay)
                time.sleep(delay)
                attempt += 1
            except (openai.OpenAIError, _Truncated, ValueError, TypeError, AttributeError, KeyError) as exc:
                raise self._error(exc, received) from exc

    def _one_request(self, lc_messages: list[Any], limit: int, received: list[str]) -> Iterator[str]:
        # llama.cpp's server ignores max_completion_tokens (what ChatOpenAI(max_tokens=) sends),
        # so the limit goes into the body as plain max_tokens.
        chunks = self._llm.stream(lc_messages, extra_body={"max_tokens": limit})
        finished = False
        for chunk in chunks:
            if chunk.response_metadata.get("finish_reason"):
                finished = True
            content = chunk.content
            if isinstance(content, str) and content:
                received.append(content)
                yield content
        if not finished:
            raise _Truncated("stream ended without finish_reason")

    def _error(self, exc: BaseException, received: list[str], *, tries: int = 1) -> EngineError:
        import openai

        partial = "".join(received)
        detail = _detail(exc)
        url = _safe_url(self.base_url)
        after = f"已重试 {tries - 1} 次仍未成功。" if tries > 1 else ""
        kept = "已生成的部分已保留；" if partial else ""
        if isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException)):
            return EngineTimeoutError(
                f"模型服务 {url} 超过 {self.settings.llm_read_timeout:g} 秒没有发送任何内容，已停止等待。"
                f"{kept}请确认模型服务没有卡住（查看其日志），稍后重试，或调大 DRAFTING_LLM_READ_TIMEOUT。",
                detail=detail, partial=partial,
            )
        if isinstance(exc, _Truncated) or (partial and isinstance(exc, (openai.APIConnectionError,
                                                                      httpx.TransportError))):
            return EngineError(_CUT_HELP, detail=detail, partial=partial)
        if isinstance(exc, (openai.APIConnectionError, httpx.TransportError)):
            return EngineUnavailableError(
                f"连接不上起草模型服务 {url}。{after}请确认模型服务已启动，并检查 DRAFTING_LLM_BASE_URL "
                "的地址和端口；"
                "也可以先改用 offline 引擎（界面上选“offline 离线组稿”，命令行加 --engine offline）。",
                detail=detail, partial=partial,
            )
        if isinstance(exc, openai.RateLimitError):
            return EngineUnavailableError(
                f"模型服务繁忙（HTTP 429，请求过多），{after}请稍后再试，或改用 offline 引擎。",
                detail=detail, partial=partial,
            )
        if isinstance(exc, openai.InternalServerError):
            return EngineUnavailableError(
                f"模型服务内部出错（HTTP {exc.status_code}），{after}请查看模型服务的日志，稍后再试，或改用 "
                "offline 引擎。",
                detail=detail, partial=partial,
            )
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return EngineError(
                f"模型服务拒绝了访问（HTTP {exc.status_code}）。请检查 DRAFTING_LLM_API_KEY 是否正确、"
                "是否有权使用该模型。",
                detail=detail, partial=partial,
            )
        if isinstance(exc, openai.NotFoundError):
            return EngineError(
                "模型服务找不到所请求的模型或接口（HTTP 404）。请检查 DRAFTING_LLM_MODEL（当前为 "
                f"{self.model}），"
                "以及 DRAFTING_LLM_BASE_URL 是否以 /v1 结尾。",
                detail=detail, partial=partial,
            )
        if isinstance(exc, openai.BadRequestError):
            return EngineError(
                "模型服务拒绝了这次请求（HTTP 400），常见原因是提示过长、超出模型的上下文长度。"
                "请减少参考材料，或核对 DRAFTING_LLM_CONTEXT_TOKENS 与模型服务的上下文设置。",
                detail=detail, partial=partial,
            )
        if isinstance(exc, openai.APIStatusError):
            return EngineError(
                f"模型服务返回了错误（HTTP {exc.status_code}）。请查看模型服务的日志后重试，或改用 offline "
                "引擎。",
                detail=detail, partial=partial,
            )
        if isinstance(exc, openai.APIError):
            return EngineError(
                f"模型服务在输出中报告了错误，{kept}请查看模型服务的日志后重试，或改用 offline 引擎。",
                detail=detail, partial=partial,
            )
        return EngineError(_GARBAGE_HELP, detail=detail, partial=partial)


def _to_langchain(messages: list[Message]) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[m.role](content=m.content) for m in messages]


# --------------------------------------------------------------------------------------------
# local: a GGUF file in-process through llama-cpp-python

_MODELS: dict[tuple[str, int], tuple[Any, threading.Lock]] = {}
_MODELS_LOCK = threading.Lock()


def _load_llama(path: Path, n_ctx: int) -> tuple[Any, threading.Lock]:
    """Load a GGUF once per (path, n_ctx) and keep it; loading is slow.  The second item
    serialises generation, since one ``Llama`` must not run two completions at once."""
    key = (str(path.resolve()), n_ctx)
    with _MODELS_LOCK:
        if key in _MODELS:
            return _MODELS[key]
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise EngineUnavailableError(
                "本机没有安装 llama-cpp-python，无法使用 local 引擎。请安装 `pip install 'drafting[local]'`，"
                "或改用 openai / offline 引擎。",
                detail=type(exc).__name__,
            ) from exc
        try:
            llama = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=os.cpu_count(), verbose=False)
        except (ValueError, RuntimeError, OSError) as exc:
            raise EngineUnavailableError(
                f"无法加载本地模型文件 {path.name}：文件可能已损坏、不完整或不是 GGUF 格式，也可能内存不足。"
                "请检查 DRAFTING_LLM_GGUF 所指的文件，或改用 offline 引擎。",
                detail=type(exc).__name__,
            ) from exc
        _MODELS[key] = (llama, threading.Lock())
        return _MODELS[key]


_CLOSE_WAIT = 10.0  # seconds a close waits for a generation in progress before leaving the model open


def _close_models(keys: list[tuple[str, int]]) -> None:
    with _MODELS_LOCK:
        models = [_MODELS.pop(k) for k in keys if k in _MODELS]
    for llama, busy in models:
        # Never free a model under a running generation (llama.cpp would crash); a generation that
        # does not end in time keeps its model, freed with the process.
        if busy.acquire(timeout=_CLOSE_WAIT):
            try:
                llama.close()
            finally:
                busy.release()


def close_local_models() -> None:
    """Free every loaded GGUF model now.  Registered with :mod:`atexit` (and called by ``app.py`` and
    the CLI on the way out): left to ``Llama.__del__`` at interpreter teardown, freeing calls into a
    half-unloaded ``llama_cpp`` module and prints a traceback."""
    with _MODELS_LOCK:
        keys = list(_MODELS)
    _close_models(keys)


atexit.register(close_local_models)


class LocalEngine:
    """Runs a GGUF model in-process with llama-cpp-python (air-gapped machines)."""

    name = "local"

    def __init__(self, settings: Settings) -> None:
        if settings.llm_gguf is None:
            raise EngineUnavailableError("使用 local 引擎需要设置 DRAFTING_LLM_GGUF，指向本机的 GGUF "
                                         "模型文件。")
        self.settings = settings
        self.path = Path(settings.llm_gguf).expanduser()
        self.n_ctx = settings.llm_context_tokens

    def describe(self) -> str:
        return f"local：{self.path.name}（本机 llama.cpp）"

    def close(self) -> None:
        """Free this engine's model (shared by every engine on the same file); the next stream reloads it."""
        _close_models([(str(self.path.resolve()), self.n_ctx)])

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def health(self) -> tuple[bool, str]:
        if not self.path.is_file():
            return False, f"找不到本地模型文件 {self.path.name}。请检查 DRAFTING_LLM_GGUF。"
        with self.path.open("rb") as fh:
            magic = fh.read(4)
        if magic != b"GGUF":
            return False, f"{self.path.name} 不是 GGUF 格式的模型文件。请检查 DRAFTING_LLM_GGUF。"
        return True, f"本地模型文件可用：{self.describe()}"

    def stream(self, messages: list[Message], *, max_tokens: int | None = None) -> Iterator[str]:
        if not self.path.is_file():
            raise EngineUnavailableError(
                f"找不到本地模型文件 {self.path.name}。请检查 DRAFTING_LLM_GGUF 所指的路径，或改用 offline "
                "引擎。"
            )
        llama, busy = _load_llama(self.path, self.n_ctx)
        if not busy.acquire(timeout=self.settings.llm_read_timeout):
            raise EngineTimeoutError(
                "本地模型正在为另一个请求生成，等待超时。请等上一篇生成完再试，或调大 "
                "DRAFTING_LLM_READ_TIMEOUT。"
            )
        received: list[str] = []
        try:
            try:
                chunks = iter(llama.create_chat_completion(
                    messages=[{"role": m.role, "content": m.content} for m in messages],
                    stream=True,
                    max_tokens=_limit(max_tokens, self.settings),
                ))
            except (ValueError, RuntimeError) as exc:
                raise self._error(exc, received) from exc
            while True:
                try:
                    chunk = next(chunks)
                except StopIteration:
                    return
                except (ValueError, RuntimeError) as exc:  # e.g. the prompt exceeds n_ctx
                    raise self._error(exc, received) from exc
                delta = chunk["choices"][0]["delta"].get("content")
                if delta:
                    received.append(delta)
                    yield delta
        finally:
            busy.release()

    def _error(self, exc: BaseException, received: list[str]) -> EngineError:
        partial = "".join(received)
        if "context window" in str(exc):
            return EngineError(
                f"提示超出了本地模型的上下文长度（{self.n_ctx} 个词元）。请减少参考材料，"
                "或调大 DRAFTING_LLM_CONTEXT_TOKENS（不能超过模型本身支持的长度）。",
                detail=type(exc).__name__, partial=partial,
            )
        return EngineError(
            f"本地模型 {self.path.name} 运行出错，已生成的部分已保留。请重试，或检查 DRAFTING_LLM_GGUF "
            "所指的模型文件，"
            "也可以改用 offline 引擎。",
            detail=type(exc).__name__, partial=partial,
        )
