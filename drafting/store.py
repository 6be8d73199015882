"""The corpus store: one Chroma collection (the source of truth) plus the derived keyword index.

Chroma holds every chunk with its metadata.  Each chunk records ``n_chunks`` for its document, so
a document cut short by an interrupted ingest is visible (fewer chunks than promised) and the next
ingest rewrites it.  The keyword index is rebuilt from Chroma whenever its fingerprint differs, so
the two can never disagree for long: :meth:`CorpusStore.keyword` always returns an index that
matches the collection.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Include
from chromadb.config import Settings as ChromaSettings

from drafting import textseg
from drafting.embedder import EndpointEmbedding, HashedChineseEmbedding
from drafting.errors import DocumentNotFoundError, DraftingError, StoreError, StoreUnavailableError
from drafting.heap import release_memory
from drafting.keyword import (
    ChunkFacts,
    KeywordIndex,
    TokenLines,
    TokenLocator,
    TokenSpool,
    fingerprint,
    remove_stale_spools,
    spool_path,
)
from drafting.ledger import Ledger, LedgerFact, chunk_facts
from drafting.records import Chunk
from drafting.settings import Settings


@dataclass
class DocInfo:
    doc_id: str
    title: str
    source: str
    issuer: str
    year: int
    doc_type: str
    chunks: int
    n_chunks: int
    figures: int

    @property
    def complete(self) -> bool:
        return self.chunks == self.n_chunks


def chunk_metadata(c: Chunk) -> dict[str, Any]:
    return {
        "doc_id": c.doc_id,
        "title": c.title,
        "issuer": c.issuer,
        "year": int(c.year),
        "doc_type": c.doc_type,
        "source": c.source,
        "position": c.position,
        "n_chunks": c.n_chunks,
        "heading_path": json.dumps(c.heading_path, ensure_ascii=False),
        "figures": json.dumps(c.figures, ensure_ascii=False),
    }


def chunk_from_row(chunk_id: str, text: str, meta: Mapping[str, Any]) -> Chunk:
    return Chunk(
        chunk_id=chunk_id,
        doc_id=str(meta["doc_id"]),
        text=text,
        heading_path=json.loads(str(meta.get("heading_path", "[]"))),
        position=int(meta.get("position", 0)),
        n_chunks=int(meta.get("n_chunks", 0)),
        title=str(meta.get("title", "")),
        issuer=str(meta.get("issuer", "")),
        year=int(meta.get("year", 0)),
        doc_type=str(meta.get("doc_type", "")),
        source=str(meta.get("source", "")),
        figures=json.loads(str(meta.get("figures", "[]"))),
    )


def make_client(settings: Settings) -> Any:
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises plain ValueError/ConnectionError here
            raise StoreUnavailableError(detail=f"{settings.chroma_url}: {exc}") from exc
    path = settings.store_path()
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        _forget_failed_client(str(path))
        raise StoreError(detail=f"{path}: {exc}") from exc


def _forget_failed_client(path: str) -> None:
    """chromadb caches one client system per path, even one whose start failed (a read-only or
    full disk); drop it so that opening the store again after the fix works without a restart."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(path, None)
    SharedSystemClient._identifier_to_refcount.pop(path, None)


def make_embedder(
    settings: Settings, stored_dim: int | None = None, keep_dim: bool = False
) -> HashedChineseEmbedding | EndpointEmbedding:
    """The embedding function for the store.  ``stored_dim``: the dimension an existing collection was
    built with.  A store keeps its dimension (an older store, built at 768, opens as it is); asking
    for another one explicitly (``DRAFTING_EMBED_DIM``) is refused with advice, never mixed, unless
    ``keep_dim`` (the migration opens the store as it is, whatever is asked)."""
    if settings.embed_base_url:
        if not settings.embed_model:
            from drafting.errors import ConfigError

            raise ConfigError(
                "设置了 DRAFTING_EMBED_BASE_URL 但没有设置 DRAFTING_EMBED_MODEL，请补上模型名（如 bge-m3）。")
        return EndpointEmbedding(settings.embed_base_url, settings.embed_model, settings.embed_api_key)
    dim = settings.embed_dim
    if stored_dim is not None and stored_dim != dim:
        if "embed_dim" in settings.model_fields_set and not keep_dim:
            raise StoreError(
                f"向量库是按 {stored_dim} 维建立的，而 DRAFTING_EMBED_DIM 设为 {dim}，两者不能混用。"
                f"请运行 `drafting store migrate --dim {dim}` 把向量库转换为 {dim} 维"
                "（文档、段落和索引都会保留），"
                f"或去掉 DRAFTING_EMBED_DIM 设置，沿用 {stored_dim} 维。"
            )
        dim = stored_dim
    return HashedChineseEmbedding(dim=dim)


def stored_embedding(collection: Collection) -> tuple[str, dict[str, Any]]:
    """(name, config) of the embedding function an existing collection was built with ("", {}) if unknown."""
    ef = (collection.configuration_json or {}).get("embedding_function") or {}
    return str(ef.get("name", "")), dict(ef.get("config") or {})


def migrating_name(collection: str) -> str:
    """The collection a migration fills before it replaces ``collection`` (see drafting/migrate.py)."""
    return f"{collection}__migrating"


# Measured: 63 documents, 3,850 chunks take 39 MB on disk (Chroma SQLite + HNSW + keyword index).
BYTES_PER_CHUNK = 16 * 1024
FREE_SPACE_MARGIN = 16 * 2**20  # SQLite WAL and HNSW files grow in steps


class CorpusStore:
    """Chroma collection + keyword index, opened from :class:`Settings`."""

    def __init__(self, settings: Settings, keep_dim: bool = False) -> None:
        """``keep_dim``: open a store built at another dimension than an explicit ``embed_dim`` asks for
        (only the migration does; everything else is refused rather than mixed)."""
        self.settings = settings
        self.client = make_client(settings)
        existing = self._existing_collection()
        name, config = stored_embedding(existing) if existing is not None else ("", {})
        stored_dim = int(config["dim"]) if name == HashedChineseEmbedding.name() and "dim" in config else None
        self.embedder = make_embedder(settings, stored_dim, keep_dim)
        try:
            self.collection: Collection = self.client.get_or_create_collection(
                name=settings.collection,
                embedding_function=self.embedder,
                configuration={"hnsw": {"space": "cosine"}},
            )
        except StoreError:
            raise
        except ValueError as exc:
            raise StoreError(
                "向量库已用另一种向量化方式建立，不能混用。"
                "请换一个 DRAFTING_STORE 目录，或删除旧库后重新导入。",
                detail=str(exc),
            ) from exc
        except Exception as exc:
            if settings.chroma_url:
                raise StoreUnavailableError(detail=f"{settings.chroma_url}: {exc}") from exc
            raise StoreError(detail=str(exc)) from exc
        self._keyword: KeywordIndex | None = None
        self._ledger: Ledger | None = None
        # One store is shared by the app's threads (warm-up, requests): the derived indexes are
        # checked and rebuilt by one thread at a time, or two rebuilds of one stale index would
        # write the same gen-<fingerprint>-<pid> folder and remove each other's files.
        self._derived = threading.RLock()

    def _existing_collection(self) -> Collection | None:
        """The collection as it is on disk (None for a new store).  A migration that was cut off after
        it removed the old collection but before it renamed the new one is finished here: the new one
        was complete (it is only ever removed after its chunks were checked)."""
        from chromadb.errors import NotFoundError

        name = self.settings.collection
        with self.chroma_errors():
            names = {getattr(c, "name", c) for c in self.client.list_collections()}
            if name not in names and migrating_name(name) in names:
                self.client.get_collection(migrating_name(name)).modify(name=name)
                names.add(name)
            if name not in names:
                return None
            try:
                return self.client.get_collection(name)
            except NotFoundError:
                return None

    def format_notice(self) -> str:
        """Chinese advice when the store was built at a larger dimension than ``embed_dim`` asks for ("" when
        not); only seen with ``keep_dim`` (``drafting store info``): otherwise such a store is refused."""
        dim = getattr(self.embedder, "dim", None)
        if dim is None or dim <= self.settings.embed_dim:
            return ""
        return (
            f"提示：向量库是按 {dim} 维建立的，而 DRAFTING_EMBED_DIM 设为 {self.settings.embed_dim}。"
            f"数据完整；运行 `drafting store migrate --dim {self.settings.embed_dim}` 可转换为 "
            f"{self.settings.embed_dim} 维"
            f"（检索索引占用的内存约为现在的 {self.settings.embed_dim / dim:.0%}），"
            "所有文档、段落和索引都会保留。"
        )

    @contextmanager
    def chroma_errors(self) -> Iterator[None]:
        """Every call into Chroma goes through here: a server that went away, a full disk or a
        read-only folder becomes a :class:`StoreError` with advice, never a raw library error."""
        try:
            yield
        except DraftingError:
            raise
        except Exception as exc:
            raise self._write_error(exc) from exc

    # ---- reading ---------------------------------------------------------------------------
    def count(self) -> int:
        with self.chroma_errors():
            return int(self.collection.count())

    def iter_rows(
        self, include: Include, where: dict[str, Any] | None = None
    ) -> Iterator[tuple[str, Any, Any]]:
        """Raw rows (id, text, metadata dict) in batches of 5,000, for readers that need the stored
        metadata as it is (citations, outlines, phrases, the migration); one batch alive at a time."""
        batch = 5000
        offset = 0
        while True:
            with self.chroma_errors():
                res = self.collection.get(where=where, include=include, limit=batch, offset=offset)
            ids = res["ids"]
            n = len(ids)
            if not n:
                return
            empty: list[Any] = [None] * len(ids)
            docs = res.get("documents") or empty
            metas = res.get("metadatas") or empty
            yield from zip(ids, docs, metas, strict=True)
            # one batch alive at a time, not two (10×: every row's metadata is ~200 MiB)
            del res, ids, docs, metas
            if n < batch:
                return
            offset += batch

    def chunk_ids(self) -> list[str]:
        """Every chunk id in the collection (what the keyword index's fingerprint is computed from)."""
        return [row[0] for row in self.iter_rows([])]

    def iter_metadata(self) -> Iterator[Mapping[str, Any]]:
        """Every chunk's metadata (doc_id, title, issuer, …) without its text, read in batches."""
        for _id, _text, meta in self.iter_rows(["metadatas"]):
            yield meta

    def iter_chunks(self, where: dict[str, Any] | None = None) -> Iterator[Chunk]:
        """Every chunk, or those matching a Chroma ``where`` (``{"doc_id": …}``), read in batches."""
        for chunk_id, text, meta in self.iter_rows(["documents", "metadatas"], where):
            yield chunk_from_row(chunk_id, text or "", meta)

    def documents(self) -> list[DocInfo]:
        docs: dict[str, DocInfo] = {}
        for _id, _doc, meta in self.iter_rows(["metadatas"]):
            d = docs.get(meta["doc_id"])
            if d is None:
                d = docs[meta["doc_id"]] = DocInfo(
                    doc_id=meta["doc_id"],
                    title=meta.get("title", ""),
                    source=meta.get("source", ""),
                    issuer=meta.get("issuer", ""),
                    year=int(meta.get("year", 0)),
                    doc_type=meta.get("doc_type", ""),
                    chunks=0,
                    n_chunks=int(meta.get("n_chunks", 0)),
                    figures=0,
                )
            d.chunks += 1
            d.figures += len(json.loads(meta.get("figures", "[]")))
        return sorted(docs.values(), key=lambda d: (d.source, d.doc_id))

    def get_chunks(self, ids: Sequence[str], with_embeddings: bool = False) -> dict[str, tuple[Chunk, Any]]:
        if not ids:
            return {}
        include: Include = (
            ["documents", "metadatas", "embeddings"] if with_embeddings else ["documents", "metadatas"])
        with self.chroma_errors():
            res = self.collection.get(ids=list(ids), include=include)
        embs = res.get("embeddings") if with_embeddings else None
        out: dict[str, tuple[Chunk, Any]] = {}
        for n, cid in enumerate(res["ids"]):
            # Chroma types these fields Optional; include= asked for both
            chunk = chunk_from_row(cid, res["documents"][n], res["metadatas"][n])  # type: ignore[index]
            out[cid] = (chunk, None if embs is None else embs[n])
        return out

    # ---- writing ---------------------------------------------------------------------------
    def add_chunks(self, chunks: Sequence[Chunk], embeddings: np.ndarray | None) -> None:
        """Add chunks; when ``embeddings`` is None the collection's embedding function computes them."""
        self.check_free_space(len(chunks))
        with self.chroma_errors():
            size = max(1, min(self.client.get_max_batch_size(), 4000))
            for start in range(0, len(chunks), size):
                part = chunks[start : start + size]
                self.collection.add(
                    ids=[c.chunk_id for c in part],
                    documents=[c.text for c in part],
                    metadatas=[chunk_metadata(c) for c in part],
                    embeddings=None if embeddings is None else embeddings[start : start + size],
                )

    def check_free_space(self, n_chunks: int) -> None:
        """Refuse a write that would not fit: Chroma's writer blocks forever on a full disk (1.5.9),
        so a full disk must be caught before the call, not after."""
        if self.settings.chroma_url:
            return  # the server's disk is the server's business; its errors come back over HTTP
        need = n_chunks * BYTES_PER_CHUNK + FREE_SPACE_MARGIN
        try:
            st = os.statvfs(self.settings.store_path())
        except OSError:
            return
        free = st.f_bavail * st.f_frsize
        if free < need:
            raise StoreError(
                f"磁盘空间不足：向量库所在磁盘只剩 {free / 2**20:.1f} MB，"
                f"这次写入约需 {need / 2**20:.1f} MB。"
                "请清理磁盘或把 DRAFTING_STORE 指到空间更大的位置，然后重新导入（已导入的内容不受影响）。"
            )

    def delete_doc(self, doc_id: str) -> None:
        with self.chroma_errors():
            self.collection.delete(where={"doc_id": doc_id})

    def remove_document(self, doc_id: str) -> DocInfo:
        """Remove one document from both indexes."""
        match = [d for d in self.documents() if d.doc_id == doc_id or d.doc_id.startswith(doc_id)]
        if len(match) != 1:
            raise DocumentNotFoundError(detail=doc_id)
        self.delete_doc(match[0].doc_id)
        self.sync_keyword()
        self.sync_ledger()
        return match[0]

    def _write_error(self, exc: Exception) -> StoreError:
        if isinstance(exc, StoreError):
            return exc
        if self.settings.chroma_url:
            return StoreUnavailableError(detail=str(exc))
        return StoreError(detail=str(exc))

    # ---- keyword index ---------------------------------------------------------------------
    def keyword(self) -> KeywordIndex:
        """The keyword index, guaranteed to match the collection (rebuilt if it does not)."""
        with self._derived:
            if self._keyword is None:
                self._keyword = self.sync_keyword()
            return self._keyword

    def refresh(self) -> None:
        """Pick up what another process changed (a second app instance on a shared Chroma server, or
        the CLI): re-sync the keyword index when the collection's size no longer matches it."""
        with self._derived:
            if self._keyword is not None and len(self._keyword) != self.count():
                self.sync_keyword()

    def sync_keyword(self, spool: Path | None = None) -> KeywordIndex:
        """Load the saved keyword index, or rebuild it from the collection if it is stale (``spool``: a
        :class:`~drafting.keyword.TokenSpool` file with the tokens of chunks an ingest has just written)."""
        with self._derived:
            return self._sync_keyword(spool)

    def _sync_keyword(self, spool: Path | None) -> KeywordIndex:
        folder = self.settings.keyword_path()
        if folder.is_dir():
            remove_stale_spools(folder)  # a killed ingest's spool is never read
        saved = KeywordIndex.load(folder)
        # only the five fields the keyword side filters on, strings shared (a row's metadata dict is
        # a few kB: at 100× holding every row was gigabytes)
        facts = ChunkFacts(ids=[], doc_ids=[], years=[], issuers=[], doc_types=[])
        shared: dict[str, str] = {}
        for cid, _doc, m in self.iter_rows(["metadatas"]):
            facts.ids.append(cid)
            facts.doc_ids.append(shared.setdefault(m["doc_id"], m["doc_id"]))
            facts.years.append(int(m.get("year", 0)))
            facts.issuers.append(shared.setdefault(m.get("issuer", ""), m.get("issuer", "")))
            facts.doc_types.append(shared.setdefault(m.get("doc_type", ""), m.get("doc_type", "")))
        ids = facts.ids
        release_memory()  # the rows read are garbage now; give it back before the matrix is built
        if saved is not None and saved.fingerprint == fingerprint(ids):
            self._keyword = saved
            return saved
        # The new tokens.txt is written line by line in collection order from the old one, the spool
        # and chunks neither holds (re-tokenised from Chroma); the matrix is then built from it a slice
        # at a time: no list of every chunk's tokens is ever held (at 100× that was hundreds of MiB).
        lines = spool_path(folder, "tokens")
        extra: TokenSpool | None = None
        try:
            extra = TokenSpool(folder, "missing")
            with TokenLocator(ids) as where:
                if saved is not None and saved.tokens_file is not None:
                    where.add_lines(saved.tokens_file, saved.facts.ids)
                del saved
                if spool is not None:
                    where.add_spool(spool)
                missing = where.missing()
                for start in range(0, len(missing), 2000):
                    for cid, (chunk, _e) in self.get_chunks(missing[start : start + 2000]).items():
                        extra.add(cid, textseg.keyword_tokens(chunk.index_text()))
                where.add_spool(extra.close())
                vanished = where.missing()  # removed from Chroma after the ids were read (another process)
                if vanished:
                    raise StoreError(
                        "建关键词索引时语料库正被改动（有段落在读取前被删除）。请稍后重试，索引会自动重建。",
                        detail=f"{len(vanished)} chunks vanished during the keyword sync")
                where.write(lines)
            index = KeywordIndex.build(facts, TokenLines(lines))
            index.save(folder)  # moves ``lines`` into the new generation as its tokens.txt
        except OSError as exc:
            raise StoreError(detail=f"关键词索引写入失败：{exc}") from exc
        finally:
            if extra is not None:
                extra.remove()
            lines.unlink(missing_ok=True)
        # read back memory-mapped: the matrix stays in the page cache, not on the heap
        self._keyword = KeywordIndex.load(folder) or index
        return self._keyword

    # ---- figure ledger (derived like the keyword index) ---------------------------------------
    def ledger(self) -> Ledger:
        """The figure ledger, guaranteed to match the collection (rebuilt if it does not)."""
        with self._derived:
            if self._ledger is None or self._ledger.fingerprint != self.keyword().fingerprint:
                self._ledger = self.sync_ledger()
            return self._ledger

    def sync_ledger(self) -> Ledger:
        """Bring the saved ledger in line with the collection, reading only chunks it has not seen
        (an ingest has staged the facts of the chunks it wrote: :meth:`stage_ledger`)."""
        with self._derived:
            return self._sync_ledger()

    def stage_ledger(self, fresh: dict[str, list[LedgerFact]]) -> None:
        """Record the facts of chunks an ingest has just parsed (written to disk, not held)."""
        with self._derived:
            self._open_ledger().stage(fresh)

    def _open_ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = Ledger.open(self.settings.ledger_path())
        return self._ledger

    def _sync_ledger(self) -> Ledger:
        ledger = self._open_ledger()
        kw = self._keyword
        # the keyword index was synced just before (ingest, removal, ledger()): its ids are the collection's
        ids = list(kw.facts.ids) if kw is not None else self.chunk_ids()
        ledger.sync(ids, fingerprint(ids), self._read_facts)
        return ledger

    def _read_facts(self, ids: list[str]) -> dict[str, list[LedgerFact]]:
        return {cid: chunk_facts(chunk) for cid, (chunk, _e) in self.get_chunks(ids).items()}
