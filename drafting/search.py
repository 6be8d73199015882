"""Hybrid retrieval: dense (Chroma) + keyword (bm25s), fused by weighted reciprocal rank, then MMR.

    query ─┬─ jieba words ─ embed ─ Chroma.query(where=filters) ─┐
           └─ keyword tokens ─ BM25(mask=filters) ───────────────┴─ RRF ─ MMR ─ hits
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drafting import textseg
from drafting.embedder import HashedChineseEmbedding
from drafting.errors import EmptyCorpusError, InputError, StoreError, StoreUnavailableError
from drafting.records import Chunk, Hit
from drafting.store import CorpusStore, chunk_from_row

MAX_QUERY_CHARS = 4000


@dataclass
class Filters:
    doc_type: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    issuer: str | None = None
    exclude_doc_ids: list[str] = field(default_factory=list)

    def chroma_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.doc_type:
            clauses.append({"doc_type": self.doc_type})
        if self.year_from is not None:
            clauses.append({"year": {"$gte": self.year_from}})
        if self.year_to is not None:
            clauses.append({"year": {"$lte": self.year_to}})
        if self.issuer:
            clauses.append({"issuer": self.issuer})
        if self.exclude_doc_ids:
            clauses.append({"doc_id": {"$nin": list(self.exclude_doc_ids)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def rrf(rankings: list[tuple[list[str], float]], k: int) -> dict[str, float]:
    """Weighted reciprocal-rank fusion of several ranked id lists."""
    fused: dict[str, float] = {}
    for ids, weight in rankings:
        for rank, cid in enumerate(ids):
            fused[cid] = fused.get(cid, 0.0) + weight / (k + rank + 1)
    return fused


def mmr(order: list[str], relevance: dict[str, float], vectors: dict[str, np.ndarray], k: int,
        lam: float) -> list[str]:
    """Maximal marginal relevance over ``order`` (best first); ids without a vector keep their rank."""
    if lam >= 1.0 or len(order) <= 1:
        return order[:k]
    top = max(relevance.values()) or 1.0
    rel = {cid: relevance[cid] / top for cid in order}
    chosen: list[str] = []
    rest = list(order)
    while rest and len(chosen) < k:
        best, best_score = rest[0], -1e9
        for cid in rest:
            sim = 0.0
            v = vectors.get(cid)
            if v is not None and chosen:
                sims = [float(np.dot(v, vectors[c])) for c in chosen if c in vectors]
                sim = max(sims) if sims else 0.0
            score = lam * rel[cid] - (1 - lam) * sim
            if score > best_score:
                best, best_score = cid, score
        chosen.append(best)
        rest.remove(best)
    return chosen


def search(store: CorpusStore, query: str, k: int | None = None, filters: Filters | None = None) -> list[Hit]:
    query = query.strip()
    if not query:
        raise InputError("检索内容是空的。请输入要查找的主题、句子或关键词。")
    query = query[:MAX_QUERY_CHARS]
    cfg = store.settings.retrieval
    k = k or cfg.k
    filters = filters or Filters()
    try:
        total = store.count()
    except Exception as exc:
        raise _unavailable(store, exc) from exc
    if total == 0:
        raise EmptyCorpusError()
    n_cand = min(max(cfg.candidates, 4 * k), total)
    words = textseg.words(query)
    if isinstance(store.embedder, HashedChineseEmbedding):
        qvec = store.embedder.embed_tokens([query], [words])[0]
    else:
        qvec = np.asarray(store.embedder([query])[0], dtype=np.float32)

    try:
        res = store.collection.query(
            query_embeddings=[qvec.tolist()],
            n_results=n_cand,
            where=filters.chroma_where(),
            include=["documents", "metadatas", "embeddings"],
        )
    except Exception as exc:
        raise _unavailable(store, exc) from exc
    dense_ids: list[str] = list(res["ids"][0])
    chunks: dict[str, Chunk] = {}
    vectors: dict[str, np.ndarray] = {}
    for n, cid in enumerate(dense_ids):
        # Chroma types each field Optional; all three are there because include= asked for them
        chunks[cid] = chunk_from_row(cid, res["documents"][0][n], res["metadatas"][0][n])  # type: ignore[index]
        vectors[cid] = np.asarray(res["embeddings"][0][n], dtype=np.float32)  # type: ignore[index]

    kw = store.keyword()
    mask = kw.mask(
        doc_type=filters.doc_type,
        year_from=filters.year_from,
        year_to=filters.year_to,
        issuer=filters.issuer,
        exclude_doc_ids=filters.exclude_doc_ids,
    )
    kw_hits = kw.search([w for w in words if w not in textseg.STOPWORDS], n_cand, mask)
    kw_ids = [cid for cid, _s in kw_hits]

    fused = rrf([(dense_ids, cfg.dense_weight), (kw_ids, cfg.keyword_weight)], cfg.rrf_k)
    order = sorted(fused, key=lambda c: -fused[c])[: max(3 * k, 10)]
    missing = [cid for cid in order if cid not in chunks]
    for cid, (chunk, emb) in store.get_chunks(missing, with_embeddings=True).items():
        chunks[cid] = chunk
        if emb is not None:
            vectors[cid] = np.asarray(emb, dtype=np.float32)
    order = [cid for cid in order if cid in chunks]
    picked = mmr(order, fused, vectors, k, cfg.mmr_lambda)
    dense_rank = {cid: r for r, cid in enumerate(dense_ids)}
    kw_rank = {cid: r for r, cid in enumerate(kw_ids)}
    return [Hit(chunks[c], fused[c], dense_rank.get(c), kw_rank.get(c)) for c in picked]


def _unavailable(store: CorpusStore, exc: Exception) -> StoreError:
    if store.settings.chroma_url:
        return StoreUnavailableError(detail=str(exc))
    return StoreError(detail=str(exc))
