"""Ingest, idempotence, removal, recovery and hybrid search on a real persistent Chroma store."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from drafting.ingest import ingest
from drafting.keyword import fingerprint
from drafting.search import Filters, search
from drafting.settings import get_settings
from drafting.store import CorpusStore
from tests.conftest import PUBLIC, SEEDS


def _chroma_ids(store: CorpusStore) -> list[str]:
    return list(store.collection.get(include=[])["ids"])


def _indexes_agree(store: CorpusStore) -> bool:
    return store.keyword().fingerprint == fingerprint(_chroma_ids(store))


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    d = tmp_path / "seeds"
    shutil.copytree(SEEDS, d)
    return d


def test_ingest_is_idempotent(settings: Any, seed_dir: Path) -> None:
    first = ingest([seed_dir], settings)
    assert (first.added, first.updated, first.unchanged, first.failed) == (5, 0, 0, [])
    assert first.chunks > 20
    store = CorpusStore(settings)
    assert store.count() == first.chunks
    again = ingest([seed_dir], settings)
    assert (again.added, again.updated, again.unchanged, again.chunks) == (0, 0, 5, 0)
    assert store.count() == first.chunks
    assert _indexes_agree(store)


def test_manifest_metadata_and_detection(settings: Any, seed_dir: Path) -> None:
    ingest([seed_dir], settings)
    docs = {d.title: d for d in CorpusStore(settings).documents()}
    summary = docs["市住建局2023年上半年工作总结"]
    assert summary.issuer == "市住建局"
    assert summary.year == 2023
    assert summary.doc_type == "半年工作总结"
    assert all(d.complete for d in docs.values())


def test_changed_file_replaces_its_chunks(settings: Any, seed_dir: Path) -> None:
    ingest([seed_dir], settings)
    store = CorpusStore(settings)
    target = seed_dir / "市住建局2022年文明创建工作总结.txt"
    old_id = next(d.doc_id for d in store.documents() if d.source == str(target.resolve()))
    target.write_text(target.read_text(encoding="utf-8")
                      + "\n四、下步打算\n持续巩固创建成果，推动常态长效。\n", encoding="utf-8")
    report = ingest([seed_dir], settings)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 4)
    store = CorpusStore(settings)
    ids = {d.doc_id for d in store.documents()}
    assert old_id not in ids and len(ids) == 5
    assert not store.collection.get(where={"doc_id": old_id}, include=[])["ids"]
    assert _indexes_agree(store)
    assert any("常态长效" in h.chunk.text for h in search(store, "巩固创建成果 常态长效", k=5))


def test_remove_document_from_both_indexes(settings: Any, seed_dir: Path) -> None:
    ingest([seed_dir], settings)
    store = CorpusStore(settings)
    victim = store.documents()[0]
    store.remove_document(victim.doc_id[:10])  # a unique prefix is enough
    store = CorpusStore(settings)
    assert victim.doc_id not in {d.doc_id for d in store.documents()}
    kw = store.keyword()
    assert victim.doc_id not in set(kw.facts.doc_ids)
    assert _indexes_agree(store)
    from drafting.errors import DocumentNotFoundError

    with pytest.raises(DocumentNotFoundError):
        store.remove_document("nonexistent")


def test_interrupted_ingest_is_repaired_by_rerun(settings: Any, seed_dir: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    real_add = CorpusStore.add_chunks

    def dying_add(self: CorpusStore, chunks: Any, embeddings: Any) -> None:
        half = len(chunks) // 2
        real_add(self, chunks[:half], None if embeddings is None else embeddings[:half])
        raise KeyboardInterrupt  # the process is stopped halfway through writing

    monkeypatch.setattr(CorpusStore, "add_chunks", dying_add)
    with pytest.raises(KeyboardInterrupt):
        ingest([seed_dir], settings)
    monkeypatch.setattr(CorpusStore, "add_chunks", real_add)

    store = CorpusStore(settings)
    docs = store.documents()
    assert docs and not all(d.complete for d in docs)  # the damage is visible
    assert _indexes_agree(store)  # opening resynchronises the keyword index

    report = ingest([seed_dir], settings)
    assert report.added + report.unchanged == 5
    store = CorpusStore(settings)
    docs = store.documents()
    assert len(docs) == 5 and all(d.complete for d in docs)
    assert store.count() == sum(d.n_chunks for d in docs)
    assert _indexes_agree(store)


def test_keyword_index_rebuilt_when_stale(settings: Any, seed_dir: Path) -> None:
    ingest([seed_dir], settings)
    store = CorpusStore(settings)
    doc = store.documents()[0]
    store.collection.delete(where={"doc_id": doc.doc_id})  # bypasses the keyword index
    reopened = CorpusStore(settings)
    assert doc.doc_id not in set(reopened.keyword().facts.doc_ids)
    assert _indexes_agree(reopened)


def test_bad_files_fail_alone(settings: Any, tmp_path: Path) -> None:
    d = tmp_path / "mixed"
    d.mkdir()
    shutil.copy(SEEDS / "市住建局2023年上半年工作总结.txt", d / "good.txt")
    (d / "junk.txt").write_bytes(bytes(range(256)) * 40)
    (d / "broken.docx").write_bytes(b"PK\x03\x04 not really a docx")
    (d / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage")
    (d / "empty.md").write_bytes(b"")
    report = ingest([d], settings)
    assert report.added == 1
    failed = {Path(f["path"]).name: f["error"] for f in report.failed}
    assert set(failed) == {"junk.txt", "broken.docx", "broken.pdf", "empty.md"}
    for msg in failed.values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in msg)


def test_hybrid_search_filters_and_exclusion(settings: Any, seed_dir: Path, tmp_path: Path) -> None:
    pub = tmp_path / "pub"
    pub.mkdir()
    for name in ("023.txt", "046.txt", "020.txt"):
        shutil.copy(PUBLIC / name, pub / name)
    shutil.copy(PUBLIC / "manifest.jsonl", pub / "manifest.jsonl")
    ingest([seed_dir, pub], settings)
    store = CorpusStore(settings)
    hits = search(store, "老旧小区改造 文明城市创建", k=5)
    assert len(hits) == 5
    assert len({h.chunk.chunk_id for h in hits}) == 5
    assert hits[0].chunk.issuer == "市住建局"
    top_doc = hits[0].chunk.doc_id
    excluded = search(store, "老旧小区改造 文明城市创建", k=5, filters=Filters(exclude_doc_ids=[top_doc]))
    assert top_doc not in {h.chunk.doc_id for h in excluded}
    only = search(store, "政府工作报告 经济发展", k=5, filters=Filters(issuer="河南省驻马店市"))
    assert only and {h.chunk.issuer for h in only} == {"河南省驻马店市"}
    years = search(store, "经济发展", k=5, filters=Filters(year_from=2003, year_to=2020))
    assert years and all(2003 <= h.chunk.year <= 2020 for h in years)
    typed = search(store, "党建", k=5, filters=Filters(doc_type="发言材料"))
    assert typed and {h.chunk.doc_type for h in typed} == {"发言材料"}
    # both indexes contribute
    assert any(h.keyword_rank is not None for h in hits) and any(h.dense_rank is not None for h in hits)


def test_search_errors_are_chinese(settings: Any) -> None:
    from drafting.errors import EmptyCorpusError, InputError

    store = CorpusStore(settings)
    with pytest.raises(EmptyCorpusError):
        search(store, "住房保障")
    with pytest.raises(InputError):
        search(store, "   ")


def test_ingest_from_a_threaded_process_spawns_its_worker(tmp_path: Path, seed_dir: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The web app runs ingest in a worker thread; forking a threaded process can deadlock the
    child, so the tokeniser worker is spawned there (and forked from the single-threaded CLI)."""
    import multiprocessing
    import threading

    from drafting import ingest as ingest_mod

    methods: list[str | None] = []
    real = multiprocessing.get_context

    def spy(method: str | None = None) -> Any:
        methods.append(method)
        return real(method)

    monkeypatch.setattr(ingest_mod.multiprocessing, "get_context", spy)
    out: dict[str, Any] = {}
    t = threading.Thread(target=lambda: out.update(r=ingest([seed_dir],
                                                            get_settings(store=tmp_path / "threaded"))))
    t.start()
    t.join(timeout=300)
    assert not t.is_alive() and out["r"].added == 5 and out["r"].failed == []
    assert methods == ["spawn"]
    # a single-threaded process (the CLI) forks: checked in a fresh interpreter, since this test
    # session runs helper threads of its own
    import subprocess
    import sys

    code = (
        "import multiprocessing, sys; from pathlib import Path; sys.path.insert(0, {!r})\n"
        "seen = []; real = multiprocessing.get_context\n"
        "multiprocessing.get_context = lambda m=None: (seen.append(m), real(m))[1]\n"
        "from drafting.ingest import ingest; from drafting.settings import get_settings\n"
        "r = ingest([Path({!r})], get_settings(store=Path({!r})))\n"
        "print(seen, r.chunks)"
    ).format(str(Path(__file__).resolve().parent.parent), str(seed_dir), str(tmp_path / "single"))
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert printed.split() == ["['fork']", str(out["r"].chunks)]


def test_a_long_lived_store_picks_up_documents_added_by_another_process(settings: Any, seed_dir: Path,
                                                                       tmp_path: Path) -> None:
    """The web app keeps one store open; the CLI (or another app instance) ingests meanwhile."""
    import os
    import subprocess
    import sys

    ingest([seed_dir], settings)
    app_store = CorpusStore(settings)
    before = app_store.keyword().fingerprint
    extra = tmp_path / "extra"
    extra.mkdir()
    shutil.copy(min(PUBLIC.glob("*.txt")), extra / "one.txt")
    subprocess.run([sys.executable, "-m", "drafting.cli", "ingest", str(extra)], check=True,
                   capture_output=True, env={**os.environ, "DRAFTING_STORE": str(settings.store)})
    assert app_store.keyword().fingerprint == before  # stale until refreshed
    app_store.refresh()
    assert app_store.keyword().fingerprint == fingerprint(app_store.collection.get(include=[])["ids"])
    assert app_store.keyword().fingerprint != before
