"""Chinese keyword index: bm25s over jieba tokens, persisted beside the vector store.

The index is *derived* from the vector store: it records a fingerprint of the chunk ids it was
built from, and :meth:`KeywordIndex.load` refuses an index whose fingerprint differs from the
store's, so the caller rebuilds it.  Writes go to a fresh folder and a ``CURRENT`` pointer is
swapped atomically, so an interrupted write never leaves a half index in use.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

from drafting.errors import StoreError


def write_generation(folder: Path, fingerprint: str, write: Callable[[Path], None], what: str) -> Path:
    """Write a derived index into a fresh ``gen-*`` folder with ``write(gen)``, then point ``CURRENT`` at it
    (an atomic rename) and drop older generations: an interrupted write never leaves a half index in use.
    Used by the keyword index."""
    folder.mkdir(parents=True, exist_ok=True)
    gen = folder / f"gen-{fingerprint}-{os.getpid()}"
    if gen.exists():
        shutil.rmtree(gen)
    gen.mkdir()
    try:
        write(gen)
        tmp = folder / "CURRENT.tmp"
        tmp.write_text(gen.name, encoding="utf-8")
        os.replace(tmp, folder / "CURRENT")
    except OSError as exc:
        raise StoreError(detail=f"{what}写入失败：{exc}") from exc
    for old in folder.glob("gen-*"):
        if old != gen:
            shutil.rmtree(old, ignore_errors=True)
    return gen


def current_generation(folder: Path) -> Path:
    """The generation ``CURRENT`` points at (OSError when there is none)."""
    return folder / (folder / "CURRENT").read_text(encoding="utf-8").strip()


def fingerprint(ids: Iterable[str]) -> str:
    h = hashlib.sha256()
    for i in sorted(ids):
        h.update(i.encode())
        h.update(b"\n")
    return h.hexdigest()[:32]


_MAX_VOCAB = 1 << 31  # (row, token id) pairs are packed as row * _MAX_VOCAB + id
_BUILD_ROWS = 8192  # documents counted per step while building the matrix


def bm25_index(token_lists: Sequence[list[str]], k1: float = 1.5, b: float = 0.75) -> bm25s.BM25:
    """A ``bm25s.BM25`` with the scores ``BM25().index(token_lists)`` computes (Lucene variant, float32
    CSC matrix, vocabulary plus the empty token), built with numpy in two passes over slices of
    documents: the first counts document frequencies, the second writes each slice's scores straight
    into their columns.  Nothing but the final matrix grows with the corpus; bm25s builds it from a
    Python list of Python ints per document, which at 100× (384k chunks) was gigabytes."""
    n = len(token_lists)
    vocab: dict[str, int] = {}
    new_id = vocab.setdefault
    lengths = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=n)

    def pairs(start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, token id, tf) of every distinct token of each document in one slice, rows ascending."""
        part = token_lists[start : start + _BUILD_ROWS]
        lens = lengths[start : start + len(part)]
        ids = np.fromiter((new_id(w, len(vocab)) for toks in part for w in toks), dtype=np.int64,
                          count=int(lens.sum()))
        rows = np.repeat(np.arange(start, start + len(part), dtype=np.int64), lens)
        packed, tf = np.unique(rows * _MAX_VOCAB + ids, return_counts=True)
        r, c = np.divmod(packed, _MAX_VOCAB)
        return r, c, tf

    df = np.zeros(0, dtype=np.int64)
    for start in range(0, n, _BUILD_ROWS):
        counts = np.bincount(pairs(start)[1], minlength=len(vocab))
        df = np.pad(df, (0, len(counts) - len(df))) + counts
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
    norm = k1 * ((1 - b) + b * lengths / (lengths.mean() if n else 1.0))
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    data = np.empty(int(indptr[-1]), dtype=np.float32)
    fill = indptr[:-1].copy()  # next free slot of each column
    for start in range(0, n, _BUILD_ROWS):
        r, c, tf = pairs(start)
        order = np.argsort(c, kind="stable")  # by column; rows stay ascending within a column
        r, c, tf = r[order], c[order], tf[order].astype(np.float64)
        cols, first, counts = np.unique(c, return_index=True, return_counts=True)
        dest = fill[c] + (np.arange(len(c)) - np.repeat(first, counts))
        indices[dest] = r
        data[dest] = idf[c] * (tf / (norm[r] + tf))
        fill[cols] += counts
    retriever = bm25s.BM25(k1=k1, b=b)
    retriever.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": n}
    vocab[""] = len(vocab)  # bm25s adds the empty token after the others
    retriever.vocab_dict = vocab
    retriever.unique_token_ids_set = set(vocab.values())
    retriever.nonoccurrence_array = None  # the Lucene variant has none
    return retriever


@dataclass
class ChunkFacts:
    """Per-chunk fields the keyword side needs for filtering, in index order."""

    ids: list[str]
    doc_ids: list[str]
    years: list[int]
    issuers: list[str]
    doc_types: list[str]


class KeywordIndex:
    def __init__(self, retriever: bm25s.BM25 | None, facts: ChunkFacts, tokens: list[list[str]] | None,
                 source: Path | None = None) -> None:
        self.retriever = retriever
        self.facts = facts
        # Each chunk's tokens are kept only until saved; afterwards they are read back from
        # ``source/tokens.txt`` when a rebuild wants them (at 100× they are gigabytes of objects).
        self._tokens = tokens
        self._source = source
        self.fingerprint = fingerprint(facts.ids)
        self._doc_ids = np.asarray(facts.doc_ids, dtype=object)
        self._years = np.asarray(facts.years, dtype=np.int32)
        self._issuers = np.asarray(facts.issuers, dtype=object)
        self._doc_types = np.asarray(facts.doc_types, dtype=object)
        self._vocab: dict[str, int] = retriever.vocab_dict if retriever is not None else {}

    def __len__(self) -> int:
        return len(self.facts.ids)

    # ---- build / persist -------------------------------------------------------------------
    @classmethod
    def build(cls, facts: ChunkFacts, tokens: list[list[str]]) -> KeywordIndex:
        retriever = bm25_index([t if t else ["∅"] for t in tokens]) if facts.ids else None
        return cls(retriever, facts, tokens)

    def save(self, folder: Path) -> None:
        def write(gen: Path) -> None:
            if self.retriever is not None:
                self.retriever.save(str(gen / "bm25"))
            meta = {
                "fingerprint": self.fingerprint,
                "ids": self.facts.ids,
                "doc_ids": self.facts.doc_ids,
                "years": self.facts.years,
                "issuers": self.facts.issuers,
                "doc_types": self.facts.doc_types,
            }
            (gen / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            with open(gen / "tokens.txt", "w", encoding="utf-8") as fh:
                fh.writelines(" ".join(t) + "\n" for t in self._token_lists())

        gen = write_generation(folder, self.fingerprint, write, "关键词索引")
        self._tokens, self._source = None, gen

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex | None:
        """The saved index, or None when there is none or it is unreadable (the caller rebuilds)."""
        try:
            gen = current_generation(folder)
            meta = json.loads((gen / "meta.json").read_text(encoding="utf-8"))
            with open(gen / "tokens.txt", encoding="utf-8") as fh:
                lines = sum(1 for _ in fh)
            shared: dict[str, str] = {}
            facts = ChunkFacts(meta["ids"], [shared.setdefault(x, x) for x in meta["doc_ids"]], meta["years"],
                               [shared.setdefault(x, x) for x in meta["issuers"]],
                               [shared.setdefault(x, x) for x in meta["doc_types"]])
            del meta["doc_ids"], meta["issuers"], meta["doc_types"]
            if lines != len(facts.ids):
                return None
            # memory-mapped: a query reads only its tokens' columns (10× store: the index 42 → … MiB resident)
            retriever = bm25s.BM25.load(str(gen / "bm25"), mmap=True) if facts.ids else None
        except (OSError, ValueError, KeyError):
            return None
        index = cls(retriever, facts, None, source=gen)
        return index if index.fingerprint == meta["fingerprint"] else None

    def _token_lists(self) -> list[list[str]]:
        if self._tokens is not None:
            return self._tokens
        if self._source is None:
            return []
        shared: dict[str, str] = {}  # one string per distinct token, not one per occurrence
        with open(self._source / "tokens.txt", encoding="utf-8") as fh:
            return [[shared.setdefault(w, w) for w in line.rstrip("\n").split(" ")] if line.strip() else []
                    for line in fh]

    def cached_tokens(self) -> dict[str, list[str]]:
        """Tokens of every chunk indexed, by chunk id (for an incremental rebuild); {} if unreadable."""
        try:
            lists = self._token_lists()
        except OSError:
            return {}
        return dict(zip(self.facts.ids, lists, strict=True)) if len(lists) == len(self.facts.ids) else {}

    # ---- query -----------------------------------------------------------------------------
    def mask(
        self,
        *,
        doc_type: str | None = None,
        year_from: int | None = None,
        year_to: int | None = None,
        issuer: str | None = None,
        exclude_doc_ids: Sequence[str] = (),
    ) -> np.ndarray | None:
        m = np.ones(len(self), dtype=bool)
        if doc_type:
            m &= self._doc_types == doc_type
        if year_from is not None:
            m &= self._years >= year_from
        if year_to is not None:
            m &= self._years <= year_to
        if issuer:
            m &= self._issuers == issuer
        if exclude_doc_ids:
            m &= ~np.isin(self._doc_ids, list(exclude_doc_ids))
        return None if m.all() else m

    def search(
        self, query_tokens: list[str], k: int, mask: np.ndarray | None = None
    ) -> list[tuple[str, float]]:
        """Top-k (chunk_id, bm25 score) for the tokens, restricted to ``mask`` when given."""
        if self.retriever is None:
            return []
        known = [t for t in query_tokens if t in self._vocab]
        if not known:
            return []
        scores = self.retriever.get_scores(known)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.facts.ids[i], float(scores[i])) for i in top if scores[i] > 0]
