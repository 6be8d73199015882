"""Store migrations: re-embed a store into another hashed-embedding dimension, losing nothing.

Stores are built at ``Settings.embed_dim`` (768, as every release so far); 256 holds the dense index
of a large archive in about a third of the memory, at a measured cost in retrieval quality
(docs/benchmarks.md).  A store opens at the dimension it was built with
(:class:`~drafting.store.CorpusStore` reads it from the collection; an explicit different
``DRAFTING_EMBED_DIM`` is refused with advice); ``drafting store migrate --dim N`` converts it:

1. every chunk is copied, with its id, text and metadata unchanged, into a new collection
   (``<collection>__migrating``), embedded at the new dimension;
2. the copy is checked: the same number of chunks and the same ids;
3. only then is the old collection dropped and the new one renamed, and the old index's folder,
   which chromadb 1.x leaves on disk, is removed.

An interruption before step 3 leaves the old collection untouched (the next run starts the copy
again); one between the drop and the rename is finished by the next open of the store.  The keyword
index, the figure ledger and the style profile are keyed by the chunk ids, which do not change, so
they stay valid and are not rebuilt.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chromadb.api.models.Collection import Collection

from drafting.embedder import HashedChineseEmbedding
from drafting.errors import StoreError
from drafting.keyword import fingerprint
from drafting.settings import Settings
from drafting.store import CorpusStore, chunk_from_row, migrating_name

BATCH = 2000  # chunks read, embedded and written per step


@dataclass
class MigrationReport:
    chunks: int
    from_dim: int
    to_dim: int
    seconds: float

    def message(self) -> str:
        if self.from_dim == self.to_dim:
            return f"向量库已是 {self.to_dim} 维，无需迁移（共 {self.chunks} 个段落）。"
        return (f"迁移完成：{self.chunks} 个段落从 {self.from_dim} 维转换为 {self.to_dim} 维，"
                f"文档、段落、关键词索引和数字台账均已保留，用时 {self.seconds:.0f} 秒。")


def migrate_store(settings: Settings, dim: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> MigrationReport:
    """Re-embed the store at ``dim`` (default: ``settings.embed_dim``); see the module docstring."""
    target = int(dim or settings.embed_dim)
    if target < 64:
        raise StoreError(f"向量维数 {target} 太小。请用 64 以上的维数（默认 768，大型语料库可用 256）。")
    t0 = time.perf_counter()
    old = CorpusStore(settings, keep_dim=True)
    if not isinstance(old.embedder, HashedChineseEmbedding):
        raise StoreError(
            "这个向量库用的是外部向量化服务（DRAFTING_EMBED_BASE_URL），维数由服务决定，无需迁移。"
        )
    total = old.count()
    if old.embedder.dim == target:
        return MigrationReport(total, target, target, time.perf_counter() - t0)
    source_dim = old.embedder.dim
    client, name = old.client, settings.collection
    temp = migrating_name(name)
    embedder = HashedChineseEmbedding(dim=target)
    with old.chroma_errors():
        if temp in {getattr(c, "name", c) for c in client.list_collections()}:
            client.delete_collection(temp)  # a copy left by an interrupted run: start again
        new = client.create_collection(temp, embedding_function=embedder,
                                       configuration={"hnsw": {"space": "cosine"}})
    old.check_free_space(total)
    done = 0
    ids: list[str] = []
    batch: list[tuple[str, Any, Any]] = []

    def write() -> None:
        nonlocal done
        chunks = [chunk_from_row(i, t or "", m) for i, t, m in batch]
        vectors = embedder([c.index_text() for c in chunks])
        with old.chroma_errors():
            new.add(ids=[i for i, _t, _m in batch], documents=[t for _i, t, _m in batch],
                    metadatas=[m for _i, _t, m in batch], embeddings=vectors)
        done += len(batch)
        batch.clear()
        if progress:
            progress(done, total)

    for row in old.iter_rows(["documents", "metadatas"]):
        ids.append(row[0])
        batch.append(row)
        if len(batch) >= BATCH:
            write()
    if batch:
        write()
    with old.chroma_errors():
        copied = new.count()
        copied_ids = _ids_of(new)
    if copied != total or fingerprint(copied_ids) != fingerprint(ids):
        with old.chroma_errors():
            client.delete_collection(temp)
        raise StoreError(
            f"迁移未完成：新向量库有 {copied} 个段落，原库有 {total} 个，原库未做任何改动。"
            "请确认迁移期间没有同时导入或删除文档，然后重新运行 `drafting store migrate`。"
        )
    with old.chroma_errors():
        client.delete_collection(name)
        new.modify(name=name)
    if not settings.chroma_url:
        remove_orphan_segments(settings.store_path())
    return MigrationReport(total, source_dim, target, time.perf_counter() - t0)


def remove_orphan_segments(store: Path) -> list[str]:
    """Delete the vector-index folders of collections Chroma has deleted.  chromadb 1.x drops a deleted
    collection's rows but leaves its HNSW folder (``<store>/<segment uuid>/``) on disk
    (chroma-core/chroma#5259): after a migration that is the whole old index.  A folder is removed
    only when its name is a UUID that Chroma's ``segments`` table no longer lists; if the table cannot
    be read, nothing is removed."""
    try:
        with closing(sqlite3.connect(f"file:{store / 'chroma.sqlite3'}?mode=ro", uri=True)) as db:
            live = {str(row[0]) for row in db.execute("SELECT id FROM segments")}
    except sqlite3.Error:
        return []
    removed = []
    for folder in store.iterdir():
        if not folder.is_dir() or folder.name in live:
            continue
        try:
            uuid.UUID(folder.name)
        except ValueError:
            continue  # keyword/, ledger/ and anything else that is not Chroma's
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    return removed


def _ids_of(collection: Collection) -> list[str]:
    out: list[str] = []
    while True:
        ids = collection.get(include=[], limit=5000, offset=len(out))["ids"]
        out.extend(ids)
        if len(ids) < 5000:
            return out
