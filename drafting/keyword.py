"""Chinese keyword index: bm25s over jieba tokens, persisted beside the vector store.

The index is *derived* from the vector store: it records a fingerprint of the chunk ids it was
built from, and :meth:`KeywordIndex.load` refuses an index whose fingerprint differs from the
store's, so the caller rebuilds it.  Writes go to a fresh folder and a ``CURRENT`` pointer is
swapped atomically, so an interrupted write never leaves a half index in use.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import BinaryIO, Protocol, Self

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
_BUILD_ROWS = 1024  # documents per slice: a slice's token lists and pairs are the build's transient memory


class TokenSource(Protocol):
    """What :func:`bm25_index` reads: a length and slices of token lists (a list, or :class:`TokenLines`)."""

    def __len__(self) -> int: ...

    def __getitem__(self, part: slice, /) -> Sequence[list[str]]: ...


def bm25_index(
    token_lists: TokenSource, k1: float = 1.5, b: float = 0.75, rows: int = _BUILD_ROWS
) -> bm25s.BM25:
    """A ``bm25s.BM25`` with the scores ``BM25().index(token_lists)`` computes (Lucene variant, float32
    CSC matrix, vocabulary plus the empty token), built with numpy in two passes over slices of
    documents: the first counts document lengths and frequencies, the second writes each slice's scores
    straight into their columns.  Only one slice of token lists is asked for at a time, so a
    :class:`TokenLines` source keeps the rest on disk; nothing but the final matrix grows with the
    corpus (bm25s builds it from a Python list of Python ints per document: gigabytes at 100×).
    ``rows``: documents per slice."""
    n = len(token_lists)
    # a new word's id is the vocabulary's size: looked up in C (map over the slice), no Python per token
    vocab: defaultdict[str, int] = defaultdict()
    vocab.default_factory = vocab.__len__
    lengths = np.zeros(n, dtype=np.int64)

    def pairs(start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, token id, tf) of every distinct token of each document in one slice, rows ascending."""
        part = token_lists[start : start + rows]
        lens = np.fromiter(map(len, part), dtype=np.int64, count=len(part))
        lengths[start : start + len(part)] = lens
        ids = np.fromiter(map(vocab.__getitem__, chain.from_iterable(part)), dtype=np.int64,
                          count=int(lens.sum()))
        del part
        docs = np.repeat(np.arange(start, start + len(lens), dtype=np.int64), lens)
        packed, tf = np.unique(docs * _MAX_VOCAB + ids, return_counts=True)
        r, c = np.divmod(packed, _MAX_VOCAB)
        return r, c, tf

    df = np.zeros(0, dtype=np.int64)
    for start in range(0, n, rows):
        counts = np.bincount(pairs(start)[1], minlength=len(vocab))
        df = np.pad(df, (0, len(counts) - len(df))) + counts
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
    norm = k1 * ((1 - b) + b * lengths / (lengths.mean() if n else 1.0))
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    data = np.empty(int(indptr[-1]), dtype=np.float32)
    fill = indptr[:-1].copy()  # next free slot of each column
    for start in range(0, n, rows):
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
    vocab.default_factory = None  # from here a plain mapping: an unknown word is a KeyError, never added
    retriever.vocab_dict = vocab
    retriever.unique_token_ids_set = set(vocab.values())
    retriever.nonoccurrence_array = None  # the Lucene variant has none
    return retriever


# ---- token files ---------------------------------------------------------------------------------
# A chunk's tokens are one line: the tokens joined by a space (``tokens.txt``: one line per chunk in
# index order; a spool: ``chunk id TAB tokens``).  Tokens never hold whitespace (``textseg.words``
# keeps jieba's words, which are runs of CJK/letters/digits or a single character, minus blanks).
_READ_BUFFER = 1 << 20


def line_starts(path: Path) -> np.ndarray:
    """Byte offset of the start of every line of ``path``, plus its size at the end (n + 1 entries);
    read in blocks, so memory stays one block whatever the file's size."""
    starts = [np.zeros(1, dtype=np.int64)]
    pos = 0
    with open(path, "rb") as fh:
        while block := fh.read(_READ_BUFFER):
            ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10) + (pos + 1)
            starts.append(ends.astype(np.int64))
            pos += len(block)
    out = np.concatenate(starts)
    if out[-1] != pos:  # a last line without its newline
        out = np.append(out, pos)
    return out


class TokenLines:
    """The token lists of a ``tokens.txt``, read from disk a slice at a time (see :func:`bm25_index`):
    ``lines[a:b]`` decodes only lines a…b-1, so only one slice of lists is alive at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._starts = line_starts(path)

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __getitem__(self, part: slice, /) -> list[list[str]]:
        start, stop, step = part.indices(len(self))
        if step != 1:
            return [self[i : i + 1][0] for i in range(start, stop, step)]
        if stop <= start:
            return []
        with open(self.path, "rb") as fh:
            fh.seek(int(self._starts[start]))
            text = fh.read(int(self._starts[stop] - self._starts[start])).decode("utf-8")
        return [line.split(" ") if line else [] for line in text.removesuffix("\n").split("\n")]


class _EmptyAsPlaceholder:
    """A token source whose empty documents read as ``["∅"]``: bm25s cannot index an empty document."""

    def __init__(self, lists: TokenSource) -> None:
        self.lists = lists

    def __len__(self) -> int:
        return len(self.lists)

    def __getitem__(self, part: slice, /) -> list[list[str]]:
        return [t or ["∅"] for t in self.lists[part]]


def spool_path(folder: Path, kind: str = "spool") -> Path:
    """A fresh spool file's path in ``folder``, named for this process (``spool-<pid>-<random>.<kind>``), so
    :func:`remove_stale_spools` can tell a killed process's leftover from a live one's."""
    return folder / f"spool-{os.getpid()}-{secrets.token_hex(4)}.{kind}"


class TokenSpool:
    """Chunks' tokens appended to a file as they come (``chunk id TAB tokens`` per line), so an ingest
    holds none of them in memory; the keyword sync reads them back by seeking (see ``CorpusStore``).
    The file belongs to the process that made it: :meth:`remove` it when done; a killed process's
    spool is removed by the next sync (:func:`remove_stale_spools`) and never read."""

    def __init__(self, folder: Path, kind: str = "spool") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = spool_path(folder, kind)
        self._fh: BinaryIO | None = open(self.path, "wb", buffering=_READ_BUFFER)  # noqa: SIM115

    def add(self, chunk_id: str, tokens: Iterable[str]) -> None:
        assert self._fh is not None, "add() after close()"
        self._fh.write(f"{chunk_id}\t{' '.join(tokens)}\n".encode())

    def close(self) -> Path:
        """Flush and close; the path, for the sync to read."""
        fh, self._fh = self._fh, None
        if fh is not None:
            fh.close()  # closed even when the last flush fails (a full disk): the OSError still says so
        return self.path

    def remove(self) -> None:
        """Close and delete; never raises (a full disk only means the unwritten lines go with the file)."""
        with contextlib.suppress(OSError):
            self.close()
        with contextlib.suppress(OSError):  # a read-only store: a sync after this process ends removes it
            self.path.unlink(missing_ok=True)


class TokenLocator:
    """Where each chunk's token line is, for writing a new ``tokens.txt`` in ``ids`` order without
    holding any token list: a file number and a byte offset per chunk (9 bytes a chunk), filled from
    an old ``tokens.txt`` (:meth:`add_lines`) and spools (:meth:`add_spool`, later ones win), then
    copied line by line (:meth:`write`).  The files are opened when added and held until
    :meth:`close`, so another process swapping generations meanwhile cannot pull one away."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.ids = ids
        self._row = {cid: n for n, cid in enumerate(ids)}
        self._file = np.full(len(ids), -1, dtype=np.int8)
        self._offset = np.zeros(len(ids), dtype=np.int64)
        self._handles: list[BinaryIO] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        for fh in self._handles:
            fh.close()
        self._handles.clear()

    def _open(self, path: Path) -> int:
        if len(self._handles) >= np.iinfo(np.int8).max:
            raise ValueError("too many token files")
        self._handles.append(open(path, "rb", buffering=_READ_BUFFER))  # noqa: SIM115 - closed in close()
        return len(self._handles) - 1

    def add_lines(self, path: Path, ids: Sequence[str]) -> None:
        """A ``tokens.txt`` whose line n holds the tokens of ``ids[n]``; skipped (those chunks stay
        missing) when it is unreadable or its line count differs."""
        try:
            starts = line_starts(path)
            if len(starts) - 1 != len(ids):
                return
            f = self._open(path)
        except OSError:
            return
        row = self._row.get
        for cid, off in zip(ids, starts[:-1].tolist(), strict=True):
            r = row(cid)
            if r is not None:
                self._file[r], self._offset[r] = f, off

    def add_spool(self, path: Path) -> None:
        """A spool (``chunk id TAB tokens`` lines); skipped when unreadable (its chunks stay missing)."""
        try:
            f = self._open(path)
        except OSError:
            return
        fh, row, pos = self._handles[f], self._row.get, 0
        for line in fh:
            tab = line.find(b"\t")
            r = row(line[:tab].decode("utf-8", "replace")) if tab > 0 and line.endswith(b"\n") else None
            if r is not None:
                self._file[r], self._offset[r] = f, pos + tab + 1
            pos += len(line)

    def missing(self) -> list[str]:
        """The chunk ids no file added so far holds, in ``ids`` order."""
        return [self.ids[r] for r in np.flatnonzero(self._file < 0).tolist()]

    def write(self, out: Path) -> Path:
        """Write every chunk's token line to ``out`` in ``ids`` order (each chunk must be located)."""
        if (self._file < 0).any():
            raise ValueError("tokens missing for some chunks")
        with open(out, "wb", buffering=_READ_BUFFER) as dest:
            for start in range(0, len(self._file), 1 << 16):
                part = slice(start, start + (1 << 16))
                for f, off in zip(self._file[part].tolist(), self._offset[part].tolist(), strict=True):
                    src = self._handles[f]
                    src.seek(off)  # within the read buffer (no system call) when lines come in order
                    line = src.readline()
                    dest.write(line if line.endswith(b"\n") else line + b"\n")
        return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, someone else's
        return True
    return True


def remove_stale_spools(folder: Path) -> None:
    """Remove the spools of processes that no longer run (a kill -9 mid-ingest leaves one behind)."""
    for path in folder.glob("spool-*"):
        try:
            pid = int(path.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _alive(pid):
            with contextlib.suppress(OSError):  # a read-only store still searches; the file is never read
                path.unlink(missing_ok=True)


@dataclass
class ChunkFacts:
    """Per-chunk fields the keyword side needs for filtering, in index order."""

    ids: list[str]
    doc_ids: list[str]
    years: list[int]
    issuers: list[str]
    doc_types: list[str]


class KeywordIndex:
    def __init__(self, retriever: bm25s.BM25 | None, facts: ChunkFacts, tokens: TokenSource | None,
                 source: Path | None = None) -> None:
        self.retriever = retriever
        self.facts = facts
        # Each chunk's tokens are kept only until saved (a list, or a file read a slice at a time);
        # afterwards they are in ``source/tokens.txt``, where the next sync reads them line by line.
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
    def build(cls, facts: ChunkFacts, tokens: TokenSource) -> KeywordIndex:
        """The index of ``tokens`` (one list per chunk, in ``facts.ids`` order): a list, or a
        :class:`TokenLines` file, which :meth:`save` then moves into the index's folder."""
        retriever = bm25_index(_EmptyAsPlaceholder(tokens)) if facts.ids else None
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
            if isinstance(self._tokens, TokenLines):
                os.replace(self._tokens.path, gen / "tokens.txt")  # written line by line by the sync
                return
            with open(gen / "tokens.txt", "w", encoding="utf-8") as fh:
                tokens = self._tokens if self._tokens is not None else []
                for start in range(0, len(tokens), _BUILD_ROWS):
                    fh.writelines(" ".join(t) + "\n" for t in tokens[start : start + _BUILD_ROWS])

        gen = write_generation(folder, self.fingerprint, write, "关键词索引")
        self._tokens, self._source = None, gen

    @property
    def tokens_file(self) -> Path | None:
        """The saved ``tokens.txt`` (one line per chunk in ``facts.ids`` order), None before :meth:`save`."""
        return None if self._source is None else self._source / "tokens.txt"

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex | None:
        """The saved index, or None when there is none or it is unreadable (the caller rebuilds)."""
        try:
            gen = current_generation(folder)
            meta = json.loads((gen / "meta.json").read_text(encoding="utf-8"))
            lines = len(line_starts(gen / "tokens.txt")) - 1
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
