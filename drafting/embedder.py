"""Embedding functions registered with Chroma.

* :class:`HashedChineseEmbedding` – the built-in default.  No model, no download: jieba words
  weighted by inverse frequency from jieba's shipped dictionary, plus CJK character bigrams, hashed
  (signed) into a fixed number of dimensions and L2-normalised.  Deterministic across processes.
* :class:`EndpointEmbedding` – any OpenAI-compatible ``/v1/embeddings`` endpoint (bge-m3 served by
  vLLM, Xinference, Ollama...), chosen with ``DRAFTING_EMBED_BASE_URL`` and ``DRAFTING_EMBED_MODEL``.

Both are registered, so a collection reopened later rebuilds the same function from its config.
Chroma's default embedding function (which downloads a model) is never used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from drafting import textseg
from drafting.errors import EmbeddingError

BIGRAM_WEIGHT = 0.6
_MAX_FEATURES = 1 << 31  # (row, feature id) pairs are packed as row * _MAX_FEATURES + id


def _bucket(feature: str, dim: int) -> tuple[int, float]:
    """Stable feature → (dimension, sign); Python's ``hash`` is salted per process, so not usable."""
    h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
    return h % dim, 1.0 if (h >> 63) & 1 else -1.0


@register_embedding_function
class HashedChineseEmbedding(EmbeddingFunction[Documents]):
    """Weighted hashed word + bigram features; see module docstring."""

    def __init__(self, dim: int = 768) -> None:
        self.dim = dim
        self._memo: dict[str, tuple[int, float]] = {}
        self._ids: dict[str, int] = {}  # feature key -> dense id, for the vectorised path
        self._buckets: list[int] = []
        self._values: list[float] = []

    def __call__(self, input: Documents) -> Embeddings:
        texts = list(input)
        return list(self.embed_tokens(texts, [textseg.words(t) for t in texts]))

    def embed_tokens(
        self, texts: Sequence[str], token_lists: Sequence[list[str]], weights: dict[str, float] | None = None
    ) -> np.ndarray:
        """Embed texts whose jieba words are already known (ingest tokenises once for both indexes).

        ``weights`` may carry the words' dictionary weights, computed where jieba is loaded.
        """
        if weights:
            for word, w in weights.items():
                key = "w:" + word
                if key not in self._memo:
                    i, sign = _bucket(key, self.dim)
                    self._memo[key] = (i, sign * w)
        # Every (row, feature) occurrence as one integer, counted with numpy: tf per row and feature.
        keys: list[str] = []
        lengths: list[int] = []
        for text, toks in zip(texts, token_lists, strict=True):
            before = len(keys)
            keys.extend(["w:" + w for w in toks])
            keys.extend(["b:" + g for g in textseg.char_bigrams(text)])
            lengths.append(len(keys) - before)
        for key in dict.fromkeys(keys).keys() - self._ids.keys():
            self._register(key)
        fids_all = np.fromiter(map(self._ids.__getitem__, keys), dtype=np.int64, count=len(keys))
        rows_all = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        occurrences = rows_all * _MAX_FEATURES + fids_all
        pairs, tf = np.unique(occurrences, return_counts=True)
        rows, fids = np.divmod(pairs, _MAX_FEATURES)
        buckets = np.asarray(self._buckets, dtype=np.int64)[fids]
        values = np.asarray(self._values)[fids] * (1.0 + np.log(tf))
        out = np.bincount(rows * self.dim + buckets, weights=values, minlength=len(texts) * self.dim)
        out = out.reshape(len(texts), self.dim).astype(np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms

    def _register(self, key: str) -> None:
        i, v = self._feature(key[:2], key[2:])
        self._ids[key] = len(self._buckets)
        self._buckets.append(i)
        self._values.append(v)

    def _feature(self, kind: str, token: str) -> tuple[int, float]:
        """(dimension, signed weight) of a word ("w:") or bigram ("b:") feature, memoised."""
        key = kind + token
        hit = self._memo.get(key)
        if hit is None:
            i, sign = _bucket(key, self.dim)
            weight = textseg.word_weight(token) if kind == "w:" else BIGRAM_WEIGHT
            hit = self._memo[key] = (i, sign * weight)
        return hit

    @staticmethod
    def name() -> str:
        return "drafting-hashed-zh"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def supported_spaces(self) -> list[str]:  # type: ignore[override]
        return ["cosine", "ip"]

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HashedChineseEmbedding:
        return HashedChineseEmbedding(dim=int(config.get("dim", 768)))

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        if old_config.get("dim") != new_config.get("dim"):
            raise ValueError("dimension of an existing collection cannot change")


@register_embedding_function
class EndpointEmbedding(EmbeddingFunction[Documents]):
    """An OpenAI-compatible embedding endpoint.  The API key is read from the environment, never stored."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 60.0) -> None:
        self.base_url = base_url
        self.model = model
        self._api_key = api_key
        self.timeout = timeout

    def __call__(self, input: Documents) -> Embeddings:
        import openai

        client = openai.OpenAI(
            base_url=self.base_url, api_key=self._api_key or "not-needed", timeout=self.timeout, max_retries=2
        )
        try:
            vectors: list[np.ndarray] = []
            texts = list(input)
            for start in range(0, len(texts), 64):
                resp = client.embeddings.create(model=self.model, input=texts[start : start + 64])
                vectors.extend(np.asarray(d.embedding, dtype=np.float32) for d in resp.data)
            return vectors
        except openai.OpenAIError as exc:
            raise EmbeddingError(detail=f"{self.base_url}: {type(exc).__name__}") from exc

    @staticmethod
    def name() -> str:
        return "drafting-endpoint"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "model": self.model}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> EndpointEmbedding:
        import os

        return EndpointEmbedding(config["base_url"], config["model"], os.environ.get("DRAFTING_EMBED_API_KEY"))
