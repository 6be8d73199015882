"""Ingest: files → text → 公文 structure → chunks → (jieba tokens, embeddings) → Chroma + keyword index.

Idempotent: a file whose content hash (doc id) is already stored completely is skipped; a file
whose content changed replaces its old chunks; a document left half-written by an interrupted run
is rewritten.  The keyword index is re-synchronised at the end (and on every open), so the two
indexes agree after any interruption once ingest is re-run.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from sys import intern
from typing import Any

import numpy as np

from drafting import textseg
from drafting.embedder import HashedChineseEmbedding
from drafting.errors import LoaderError
from drafting.figures import figures_of_chunk
from drafting.heap import release_memory
from drafting.ledger import chunk_facts
from drafting.loaders import iter_corpus_files, load_file
from drafting.records import Chunk, DocMeta
from drafting.settings import Settings
from drafting.store import CorpusStore
from drafting.structure import chunk_document, doc_id_for, parse_document

Progress = Callable[[int, int, str], None]  # (done, total, current file)

BATCH_DOCS = 8  # documents per worker job: small, so the worker starts early and stays busy
MAX_IN_FLIGHT = 8  # worker jobs queued before the oldest is collected (bounds memory)
WRITE_RECORDS = 1000  # chunks per Chroma write: each call has a fixed cost
WORKERS = 1  # tokeniser/embedder processes; 2 measured 6 % faster cold (7.8 vs 8.3 s) for a second jieba copy


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    chunks: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)  # per-file outcome, for the UI
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "chunks": self.chunks,
        }


def read_manifest(folder: Path) -> dict[str, DocMeta]:
    """Optional ``manifest.jsonl`` beside the files: {"file", "title", "year", "region", "doc_type"}."""
    path = folder / "manifest.jsonl"
    hints: dict[str, DocMeta] = {}
    if not path.is_file():
        return hints
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
            hints[row["file"]] = DocMeta(
                title=str(row.get("title", "")),
                issuer=str(row.get("region") or row.get("issuer") or ""),
                year=int(row.get("year") or 0),
                doc_type=str(row.get("doc_type", "")),
            )
        except (ValueError, KeyError, TypeError):
            continue
    return hints


_WORKER_EMBEDDERS: dict[int, HashedChineseEmbedding] = {}


def prepare_batch(texts: list[str], dim: int | None) -> tuple[list[list[str]], np.ndarray | None, float, float]:
    """Worker side: jieba words of each text and, for the built-in embedder (``dim`` given), the
    embeddings too, so the parent only parses and writes.  Returns (words, vectors, tok s, embed s)."""
    word_lists, weights, tok_seconds = textseg.tokenise_batch(texts)
    if dim is None:
        return word_lists, None, tok_seconds, 0.0
    start = time.perf_counter()
    embedder = _WORKER_EMBEDDERS.setdefault(dim, HashedChineseEmbedding(dim=dim))
    vectors = embedder.embed_tokens(texts, word_lists, weights)
    return word_lists, vectors, tok_seconds, time.perf_counter() - start


def _tokeniser() -> Executor:
    """A one-process pool that loads jieba and segments text while this process parses, embeds
    and writes to Chroma (the GIL would serialise a thread).  Falls back to in-process work where
    ``fork`` is unavailable."""
    # fork is fast (jieba and numpy already imported), but forking a process that runs other
    # threads (the web app) can deadlock the child on a lock held by one of them: spawn there.
    method = "fork" if threading.active_count() == 1 else "spawn"
    try:
        ctx = multiprocessing.get_context(method)
    except ValueError:
        return _InlineExecutor()
    return ProcessPoolExecutor(max_workers=WORKERS, mp_context=ctx, initializer=_worker_init, initargs=(os.getpid(),))


def _worker_init(parent: int | None = None) -> None:
    """Die with the parent (Linux): after a kill -9 of the app, no orphan worker lingers.  A spawned
    worker imports for a while before it gets here; if the parent died meanwhile, the death signal
    will never come (the worker holds its own queue's write end, so it would wait forever): exit."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if parent is not None and os.getppid() != parent:
        os._exit(1)
    textseg.tokenizer()


class _InlineExecutor(Executor):
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


class _Timer:
    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings

    def add(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - since
        return now


def ingest(
    paths: Iterable[Path], settings: Settings, progress: Progress | None = None, store: CorpusStore | None = None
) -> IngestReport:
    report = IngestReport()
    timer = _Timer(report.timings)
    t = time.perf_counter()
    store = store or CorpusStore(settings)
    files = list(iter_corpus_files(Path(p) for p in paths))
    existing: dict[str, list[Any]] = {}  # source -> [DocInfo...]
    complete_ids: set[str] = set()
    partial_ids: set[str] = set()
    for d in store.documents() if store.count() else []:
        existing.setdefault(d.source, []).append(d)
        (complete_ids if d.complete else partial_ids).add(d.doc_id)
    t = timer.add("open", t)

    manifests: dict[Path, dict[str, DocMeta]] = {}
    pending: list[tuple[str, list[Chunk], list[str]]] = []  # (status, chunks, stale doc ids)
    fresh_tokens: dict[str, list[str]] = {}
    fresh_facts: dict[str, list[Any]] = {}  # the figure ledger's facts, read while the worker tokenises
    max_bytes = int(settings.max_file_mb * 1024 * 1024)

    Batch = list[tuple[str, list[Chunk], list[str]]]
    in_flight: list[tuple[Batch, Future[Any]]] = []
    ready: list[tuple[Batch, np.ndarray]] = []  # worker results waiting to be written

    def flush() -> None:
        """Queue the pending documents for the worker; collect the oldest results once enough are queued."""
        if pending:
            batch = list(pending)
            pending.clear()
            texts = [c.index_text() for _s, cs, _o in batch for c in cs]
            in_flight.append((batch, tokeniser.submit(prepare_batch, texts, dim)))
            if settings.ledger.enabled:
                t0 = time.perf_counter()
                for _s, cs, _o in batch:
                    for c in cs:
                        fresh_facts[c.chunk_id] = chunk_facts(c)
                report.timings["ledger facts"] = report.timings.get("ledger facts", 0.0) + time.perf_counter() - t0
        while len(in_flight) > MAX_IN_FLIGHT:
            collect(*in_flight.pop(0))

    def collect(batch: Batch, future: Future[Any]) -> None:
        nonlocal t
        t = time.perf_counter()
        chunks = [c for _s, cs, _o in batch for c in cs]
        word_lists, embeddings, tok_seconds, embed_seconds = future.result()
        report.timings["tokenise"] = report.timings.get("tokenise", 0.0) + tok_seconds
        report.timings["embed"] = report.timings.get("embed", 0.0) + embed_seconds
        t = timer.add("worker wait", t)
        for c, ws in zip(chunks, word_lists, strict=True):
            # interned: the worker's words arrive as new objects, one per occurrence; a shared string per
            # word keeps the token table to pointers (peak RSS at 3x: 504 -> 478 MB)
            fresh_tokens[c.chunk_id] = [intern(w) for w in ws if w not in textseg.STOPWORDS]
        if embeddings is None:  # an embedding endpoint: called from here, not from the worker
            embeddings = np.asarray(store.embedder([c.index_text() for c in chunks]), dtype=np.float32)
            t = timer.add("embed", t)
        ready.append((batch, embeddings))
        if sum(len(e) for _b, e in ready) >= WRITE_RECORDS:
            write()

    def write() -> None:
        """One Chroma call for everything ready: each call has a fixed cost, so fewer, larger calls."""
        nonlocal t
        if not ready:
            return
        t = time.perf_counter()
        batches = [b for b, _e in ready]
        chunks = [c for b in batches for _s, cs, _o in b for c in cs]
        embeddings = np.concatenate([e for _b, e in ready]) if chunks else np.zeros((0, 1), np.float32)
        ready.clear()
        for batch in batches:
            for _status, cs, stale in batch:
                for old in stale:
                    store.delete_doc(old)
                if cs and cs[0].doc_id in partial_ids:
                    store.delete_doc(cs[0].doc_id)  # left half-written by an interrupted run
        if chunks:
            store.add_chunks(chunks, embeddings)
        t = timer.add("chroma", t)
        for batch in batches:
            for status, cs, _o in batch:
                setattr(report, status, getattr(report, status) + 1)
                report.chunks += len(cs)

    def read_one(n: int, path: Path) -> None:
        nonlocal t
        source = str(path.resolve())
        if progress:
            progress(n, len(files), path.name)
        try:
            loaded = load_file(path, max_bytes=max_bytes)
        except LoaderError as exc:
            report.failed.append({"path": str(path), "error": exc.help_message})
            report.files.append({"path": str(path), "status": "failed", "error": exc.help_message})
            return
        doc_id = doc_id_for(loaded.text)
        previous = existing.get(source, [])
        if doc_id in complete_ids:
            report.unchanged += 1
            report.files.append({"path": str(path), "status": "unchanged", "doc_id": doc_id})
            t = timer.add("parse", t)
            return
        folder = path.parent
        if folder not in manifests:
            manifests[folder] = read_manifest(folder)
        parsed = parse_document(loaded.text, styled_headings=loaded.styled_headings, hints=manifests[folder].get(path.name))
        chunks = chunk_document(
            parsed,
            doc_id=doc_id,
            source=source,
            max_tokens=settings.chunking.max_tokens,
            min_chars=settings.chunking.min_chars,
        )
        t = timer.add("parse", t)
        if not chunks:
            msg = "文件里只有标题或日期，没有正文，未入库。请确认选对了文件，或把正文补全后再导入。"
            report.failed.append({"path": str(path), "error": msg})
            report.files.append({"path": str(path), "status": "failed", "error": msg})
            return
        stale = [d.doc_id for d in previous if d.doc_id != doc_id]
        status = "updated" if stale else "added"
        complete_ids.add(doc_id)
        pending.append((status, chunks, stale))
        report.files.append({"path": str(path), "status": status, "doc_id": doc_id, "chunks": len(chunks)})
        if len(pending) >= BATCH_DOCS:
            flush()

    dim = store.embedder.dim if isinstance(store.embedder, HashedChineseEmbedding) else None
    tokeniser = _tokeniser()
    finished = False
    try:
        for n, path in enumerate(files):
            read_one(n, path)
        flush()
        while in_flight:
            collect(*in_flight.pop(0))
        write()
        finished = True
    finally:
        # After a clean run the idle worker exits at once; waiting also ends the pool's manager
        # thread, so the next ingest in this process still sees a single-threaded process.
        tokeniser.shutdown(wait=finished, cancel_futures=True)
    if progress:
        progress(len(files), len(files), "")
    t = time.perf_counter()
    store.sync_keyword(fresh_tokens)
    timer.add("keyword", t)
    if settings.ledger.enabled:
        t = time.perf_counter()
        store.sync_ledger(fresh_facts)
        timer.add("ledger", t)
    fresh_facts.clear()
    figures_of_chunk.cache_clear()
    fresh_tokens.clear()  # the closures above keep these names alive until ingest returns
    release_memory()
    return report
