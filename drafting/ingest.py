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
from typing import Any

import numpy as np

from drafting import textseg
from drafting.chunking import chunk_document, doc_id_for
from drafting.embedder import HashedChineseEmbedding
from drafting.errors import LoaderError, StoreError
from drafting.figures import figures_of_chunk
from drafting.heap import release_memory
from drafting.keyword import TokenSpool
from drafting.ledger import chunk_facts
from drafting.loaders import iter_corpus_files, load_file
from drafting.records import Chunk, DocMeta
from drafting.settings import Settings
from drafting.store import CorpusStore
from drafting.structure import parse_document

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


def prepare_batch(
    texts: list[str], dim: int | None
) -> tuple[list[list[str]], np.ndarray | None, float, float]:
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
    return ProcessPoolExecutor(
        max_workers=WORKERS, mp_context=ctx, initializer=_worker_init, initargs=(os.getpid(),)
    )


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
    """Stage times: each :meth:`lap` adds the seconds since the last mark to a stage."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self._mark = time.perf_counter()

    def mark(self) -> None:
        self._mark = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.add_seconds(stage, now - self._mark)
        self._mark = now

    def add_seconds(self, stage: str, seconds: float) -> None:
        self.timings[stage] = self.timings.get(stage, 0.0) + seconds


# A parsed document on its way to Chroma: (report status "added"/"updated", chunks, stale doc ids).
_Doc = tuple[str, list[Chunk], list[str]]
_Batch = list[_Doc]


class _IngestRun:
    """One ingest's shared state, with its stages as methods.

    :meth:`read` loads, parses and chunks a file into ``pending``; :meth:`flush` sends pending
    documents to the worker and reads their ledger facts; :meth:`collect` takes a worker result
    (words for the keyword index, embeddings) into ``ready``; :meth:`write` writes everything
    ready to Chroma in one call; :meth:`sync_indexes` rebuilds the derived indexes at the end.
    """

    def __init__(
        self, paths: Iterable[Path], settings: Settings, progress: Progress | None, store: CorpusStore | None
    ) -> None:
        self.report = IngestReport()
        self.timer = _Timer(self.report.timings)  # "open" counts from here
        self.settings = settings
        self.store = store = store or CorpusStore(settings)
        self.files = list(iter_corpus_files(Path(p) for p in paths))
        self.progress = progress
        self.tokeniser: Executor | None = None  # the worker pool, while :meth:`run` runs
        self.max_bytes = int(settings.max_file_mb * 1024 * 1024)
        self.dim = store.embedder.dim if isinstance(store.embedder, HashedChineseEmbedding) else None
        self.existing: dict[str, list[Any]] = {}  # source -> [DocInfo...]
        self.complete_ids: set[str] = set()
        self.partial_ids: set[str] = set()  # documents an interrupted run left half-written
        self.manifests: dict[Path, dict[str, DocMeta]] = {}
        self.pending: _Batch = []  # parsed, not yet sent to the worker
        self.in_flight: list[tuple[_Batch, Future[Any]]] = []  # at the worker
        self.ready: list[tuple[_Batch, np.ndarray]] = []  # worker results waiting to be written
        # each new chunk's keyword tokens go to a file as they come, not into memory (see sync_indexes)
        self.spool: TokenSpool | None = None

    def index_existing(self) -> None:
        for d in self.store.documents() if self.store.count() else []:
            self.existing.setdefault(d.source, []).append(d)
            (self.complete_ids if d.complete else self.partial_ids).add(d.doc_id)
        self.timer.lap("open")

    def _file_outcome(self, path: Path, status: str, **extra: Any) -> None:
        self.report.files.append({"path": str(path), "status": status, **extra})
        if status == "failed":
            self.report.failed.append({"path": str(path), "error": extra["error"]})

    def read(self, n: int, path: Path) -> None:
        """Load, parse and chunk one file; a changed or new document joins ``pending``."""
        source = str(path.resolve())
        if self.progress:
            self.progress(n, len(self.files), path.name)
        try:
            loaded = load_file(path, max_bytes=self.max_bytes)
        except LoaderError as exc:
            self._file_outcome(path, "failed", error=exc.help_message)
            return
        doc_id = doc_id_for(loaded.text)
        if doc_id in self.complete_ids:
            self.report.unchanged += 1
            self._file_outcome(path, "unchanged", doc_id=doc_id)
            self.timer.lap("parse")
            return
        folder = path.parent
        if folder not in self.manifests:
            self.manifests[folder] = read_manifest(folder)
        hints = self.manifests[folder].get(path.name)
        parsed = parse_document(loaded.text, styled_headings=loaded.styled_headings, hints=hints)
        chunks = chunk_document(
            parsed,
            doc_id=doc_id,
            source=source,
            max_tokens=self.settings.chunking.max_tokens,
            min_chars=self.settings.chunking.min_chars,
        )
        self.timer.lap("parse")
        if not chunks:
            msg = "文件里只有标题或日期，没有正文，未入库。请确认选对了文件，或把正文补全后再导入。"
            self._file_outcome(path, "failed", error=msg)
            return
        stale = [d.doc_id for d in self.existing.get(source, []) if d.doc_id != doc_id]
        status = "updated" if stale else "added"
        self.complete_ids.add(doc_id)
        self.pending.append((status, chunks, stale))
        self._file_outcome(path, status, doc_id=doc_id, chunks=len(chunks))
        if len(self.pending) >= BATCH_DOCS:
            self.flush()

    def flush(self) -> None:
        """Queue the pending documents for the worker; collect the oldest results once enough are queued."""
        if self.pending:
            batch, self.pending = self.pending, []
            texts = [c.index_text() for _s, cs, _o in batch for c in cs]
            assert self.tokeniser is not None, "flush() runs inside run()"
            self.in_flight.append((batch, self.tokeniser.submit(prepare_batch, texts, self.dim)))
            if self.settings.ledger.enabled:
                t0 = time.perf_counter()
                # written to the ledger's file batch by batch: at 100× the facts were 0.6 GiB held
                self.store.stage_ledger({c.chunk_id: chunk_facts(c) for _s, cs, _o in batch for c in cs})
                self.timer.add_seconds("ledger facts", time.perf_counter() - t0)
        while len(self.in_flight) > MAX_IN_FLIGHT:
            self.collect(*self.in_flight.pop(0))

    def collect(self, batch: _Batch, future: Future[Any]) -> None:
        self.timer.mark()
        chunks = [c for _s, cs, _o in batch for c in cs]
        word_lists, embeddings, tok_seconds, embed_seconds = future.result()
        self.timer.add_seconds("tokenise", tok_seconds)
        self.timer.add_seconds("embed", embed_seconds)
        self.timer.lap("worker wait")
        assert self.spool is not None, "collect() runs inside run()"
        try:
            for c, ws in zip(chunks, word_lists, strict=True):
                self.spool.add(c.chunk_id, (w for w in ws if w not in textseg.STOPWORDS))
        except OSError as exc:  # a full disk: nothing of this batch is in Chroma yet
            raise StoreError(detail=f"关键词暂存文件无法写入：{exc}") from exc
        if embeddings is None:  # an embedding endpoint: called from here, not from the worker
            embeddings = np.asarray(self.store.embedder([c.index_text() for c in chunks]), dtype=np.float32)
            self.timer.lap("embed")
        self.ready.append((batch, embeddings))
        if sum(len(e) for _b, e in self.ready) >= WRITE_RECORDS:
            self.write()

    def write(self) -> None:
        """One Chroma call for everything ready: each call has a fixed cost, so fewer, larger calls."""
        if not self.ready:
            return
        self.timer.mark()
        batches = [b for b, _e in self.ready]
        chunks = [c for b in batches for _s, cs, _o in b for c in cs]
        embeddings = np.concatenate([e for _b, e in self.ready]) if chunks else np.zeros((0, 1), np.float32)
        self.ready.clear()
        for batch in batches:
            for _status, cs, stale in batch:
                for old in stale:
                    self.store.delete_doc(old)
                if cs and cs[0].doc_id in self.partial_ids:
                    self.store.delete_doc(cs[0].doc_id)  # left half-written by an interrupted run
        if chunks:
            self.store.add_chunks(chunks, embeddings)
        self.timer.lap("chroma")
        for batch in batches:
            for status, cs, _o in batch:
                setattr(self.report, status, getattr(self.report, status) + 1)
                self.report.chunks += len(cs)

    def run(self) -> None:
        """Every file through the worker into Chroma; the worker pool is shut down on the way out."""
        self.spool = self.spool or self._open_spool()
        self.tokeniser = tokeniser = _tokeniser()
        finished = False
        try:
            for n, path in enumerate(self.files):
                self.read(n, path)
            self.flush()
            while self.in_flight:
                self.collect(*self.in_flight.pop(0))
            self.write()
            finished = True
        finally:
            # After a clean run the idle worker exits at once; waiting also ends the pool's manager
            # thread, so the next ingest in this process still sees a single-threaded process.
            tokeniser.shutdown(wait=finished, cancel_futures=True)
            self.tokeniser = None
        if self.progress:
            self.progress(len(self.files), len(self.files), "")

    def _open_spool(self) -> TokenSpool:
        try:
            return TokenSpool(self.settings.keyword_path())
        except OSError as exc:
            raise StoreError(detail=f"关键词暂存文件无法创建：{exc}") from exc

    def discard_spool(self) -> None:
        """Remove this run's token spool (after the sync, or when the run stopped short)."""
        if self.spool is not None:
            self.spool.remove()
            self.spool = None

    def sync_indexes(self) -> None:
        """The keyword index from the spooled tokens, the ledger from the staged facts (the rest: Chroma)."""
        self.timer.mark()
        try:
            self.store.sync_keyword(self.spool.close() if self.spool is not None else None)
        except OSError as exc:
            raise StoreError(detail=f"关键词暂存文件无法写入：{exc}") from exc
        finally:
            self.discard_spool()
        self.timer.lap("keyword")
        if self.settings.ledger.enabled:
            self.store.sync_ledger()
            self.timer.lap("ledger")


def ingest(
    paths: Iterable[Path],
    settings: Settings,
    progress: Progress | None = None,
    store: CorpusStore | None = None,
) -> IngestReport:
    """Ingest files and folders into the store (see the module docstring); the report per file."""
    run = _IngestRun(paths, settings, progress, store)
    try:
        run.index_existing()
        run.run()
        run.sync_indexes()
    finally:
        run.discard_spool()  # stopped short: no one will read it
    figures_of_chunk.cache_clear()
    report = run.report
    del run  # the parsed chunks and tokens go before the heap is trimmed
    release_memory()
    return report
