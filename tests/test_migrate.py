"""A store written by release 24ac461 (768-dimensional hashed embeddings) opens in this version, and
``drafting store migrate --dim 256`` converts it (a third of the memory for the dense index) without
losing anything.

The fixture ``tests/data/store-24ac461.tar.gz`` is a real store: ``drafting ingest corpus/`` run with
the code of commit 24ac461 (5 seed documents, 81 chunks), with its keyword index and figure ledger.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drafting.cli import main as cli_main
from drafting.errors import StoreError
from drafting.keyword import KeywordIndex, current_generation
from drafting.ledger import Ledger
from drafting.migrate import migrate_store
from drafting.search import search
from drafting.settings import get_settings
from drafting.store import CorpusStore, migrating_name
from tests.conftest import SEEDS

FIXTURE = Path(__file__).parent / "data" / "store-24ac461.tar.gz"
RELEASE_DOCS = 5
RELEASE_CHUNKS = 81


@pytest.fixture
def release_store(tmp_path: Path) -> Path:
    store = tmp_path / "store"
    store.mkdir()
    with tarfile.open(FIXTURE) as tar:
        if hasattr(tarfile, "data_filter"):  # Python ≥ 3.11.4
            tar.extractall(store, filter="data")
        else:
            tar.extractall(store)  # our own fixture, no links or absolute paths
    return store


def _snapshot(store: CorpusStore) -> dict[str, Any]:
    """Everything a writer could lose: chunk ids, texts and metadata, documents, keyword index, ledger."""
    res = store.collection.get(include=["documents", "metadatas"])
    rows = sorted(zip(res["ids"], res["documents"], res["metadatas"], strict=True), key=lambda r: r[0])
    settings = store.settings
    ledger = store.ledger()
    return {
        "rows": [(i, d, json.dumps(m, sort_keys=True, ensure_ascii=False)) for i, d, m in rows],
        "docs": [(d.doc_id, d.title, d.chunks, d.n_chunks, d.figures) for d in store.documents()],
        "keyword_gen": current_generation(settings.keyword_path()).name,
        "ledger_fingerprint": ledger.fingerprint,
        "ledger_facts": sorted(
            json.dumps(f.to_json(), sort_keys=True, ensure_ascii=False) for f in ledger.iter_facts()
        ),
    }


def _facts(ledger: Ledger) -> list[str]:
    return sorted(json.dumps(f.to_json(), sort_keys=True, ensure_ascii=False) for f in ledger.iter_facts())


def _release_ledger(folder: Path) -> list[str]:
    """The facts the release saved, read from its own format (``gen-*/facts.jsonl``)."""
    gen = current_generation(folder)
    assert json.loads((gen / "meta.json").read_text(encoding="utf-8"))["format"] == 2
    rows = [json.loads(line) for line in (gen / "facts.jsonl").read_text(encoding="utf-8").splitlines()]
    facts = sorted(json.dumps(f, sort_keys=True, ensure_ascii=False) for r in rows for f in r["facts"])
    assert facts, "the release's ledger holds facts: the comparison can fail"
    return facts


def test_release_store_opens_as_it_is(release_store: Path) -> None:
    settings = get_settings(store=release_store)
    store = CorpusStore(settings)
    assert store.embedder.dim == 768
    assert store.count() == RELEASE_CHUNKS
    docs = store.documents()
    assert len(docs) == RELEASE_DOCS and all(d.complete for d in docs)
    saved = KeywordIndex.load(settings.keyword_path())
    assert saved is not None and store.keyword().fingerprint == saved.fingerprint  # not rebuilt
    # the release's ledger (format 2, facts.jsonl) is taken over as it is, not re-read, and removed
    assert _release_ledger(settings.ledger_path()) == _facts(store.ledger())
    folder = settings.ledger_path()
    assert not list(folder.glob("gen-*")) and not (folder / "CURRENT").exists()
    assert store.ledger().fingerprint == store.keyword().fingerprint
    hits = search(store, "老旧小区改造", k=3)
    assert hits and "老旧小区" in hits[0].chunk.text
    assert store.format_notice() == ""
    # asked for 256, the store is only opened as it is by the migration (and `store info`), with advice
    kept = CorpusStore(get_settings(store=release_store, embed_dim=256), keep_dim=True)
    assert kept.embedder.dim == 768
    notice = kept.format_notice()
    assert "768" in notice and "drafting store migrate --dim 256" in notice


def test_another_dimension_asked_for_is_refused_with_advice(release_store: Path) -> None:
    with pytest.raises(StoreError) as exc:
        CorpusStore(get_settings(store=release_store, embed_dim=384))
    assert "768" in exc.value.help_message and "drafting store migrate --dim 384" in exc.value.help_message


def test_migrate_keeps_every_chunk_and_index(release_store: Path) -> None:
    settings = get_settings(store=release_store, embed_dim=256)
    before = _snapshot(CorpusStore(settings, keep_dim=True))
    old_folders = {p.name for p in release_store.iterdir() if p.is_dir()}
    old_index = "e639c9af-4a0a-410a-9d05-701a8f33cca0"  # the release store's HNSW folder
    assert old_index in old_folders
    ticks: list[tuple[int, int]] = []
    report = migrate_store(settings, progress=lambda done, total: ticks.append((done, total)))
    assert (report.chunks, report.from_dim, report.to_dim) == (RELEASE_CHUNKS, 768, 256)
    assert ticks[-1] == (RELEASE_CHUNKS, RELEASE_CHUNKS)
    assert "81 个段落从 768 维转换为 256 维" in report.message()

    folders_after = {p.name for p in release_store.iterdir() if p.is_dir()}
    assert old_folders - folders_after == {old_index}  # the old HNSW folder is gone, nothing else
    assert {"keyword", "ledger"} <= folders_after
    store = CorpusStore(settings)
    assert store.embedder.dim == 256 and store.format_notice() == ""
    assert CorpusStore(get_settings(store=release_store)).embedder.dim == 256  # kept without the setting too
    assert _snapshot(store) == before  # same chunks, texts, metadata, documents; indexes not rebuilt
    names = {getattr(c, "name", c) for c in store.client.list_collections()}
    assert names == {settings.collection}
    emb = store.collection.get(ids=[before["rows"][0][0]], include=["embeddings"])["embeddings"]
    assert np.asarray(emb).shape == (1, 256)
    hits = search(store, "老旧小区改造", k=3)
    assert hits and "老旧小区" in hits[0].chunk.text
    again = migrate_store(settings)
    assert (again.from_dim, again.to_dim) == (256, 256) and "无需迁移" in again.message()


def test_a_migration_cut_off_before_the_rename_is_finished_on_open(release_store: Path) -> None:
    """The state between dropping the old collection and renaming the new one: the next open renames it."""
    settings = get_settings(store=release_store)
    old = CorpusStore(settings)
    before = _snapshot(old)
    res = old.collection.get(include=["documents", "metadatas", "embeddings"])
    temp = old.client.create_collection(migrating_name(settings.collection), embedding_function=old.embedder,
                                        configuration={"hnsw": {"space": "cosine"}})
    temp.add(ids=res["ids"], documents=res["documents"], metadatas=res["metadatas"],
             embeddings=res["embeddings"])
    old.client.delete_collection(settings.collection)

    store = CorpusStore(settings)
    assert store.count() == RELEASE_CHUNKS
    assert _snapshot(store) == before


def test_a_new_store_is_built_at_the_configured_dimension(tmp_path: Path) -> None:
    from drafting.ingest import ingest

    assert get_settings().embed_dim == 768  # the default stays the releases' dimension
    for dim in (256, 128):
        settings = get_settings(store=tmp_path / f"s{dim}", embed_dim=dim)
        ingest([SEEDS], settings)
        store = CorpusStore(get_settings(store=tmp_path / f"s{dim}"))  # reopened without the setting
        assert store.embedder.dim == dim
        emb = store.collection.get(limit=1, include=["embeddings"])["embeddings"]
        assert np.asarray(emb).shape == (1, dim)


def test_cli_store_info_and_migrate(release_store: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DRAFTING_STORE", str(release_store))
    assert cli_main(["store", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["chunks"], info["dim"], info["notice"]) == (RELEASE_CHUNKS, 768, "")
    assert cli_main(["store", "migrate", "--json"]) == 0  # already at the configured dimension
    assert json.loads(capsys.readouterr().out)["to_dim"] == 768
    monkeypatch.setenv("DRAFTING_EMBED_DIM", "256")
    assert cli_main(["search", "老旧小区"]) == 2  # refused, not mixed
    assert "drafting store migrate --dim 256" in capsys.readouterr().err
    assert cli_main(["store", "info", "--json"]) == 0
    assert "drafting store migrate --dim 256" in json.loads(capsys.readouterr().out)["notice"]
    assert cli_main(["store", "migrate", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["chunks"], out["from_dim"], out["to_dim"]) == (RELEASE_CHUNKS, 768, 256)
    assert cli_main(["store", "info"]) == 0
    text = capsys.readouterr().out
    assert "向量维数 256" in text and "提示" not in text
