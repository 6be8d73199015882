"""The same store code against a real `chroma run` server on 127.0.0.1, started and stopped here."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drafting.errors import StoreUnavailableError
from drafting.ingest import ingest
from drafting.keyword import fingerprint
from drafting.search import search
from drafting.settings import get_settings
from drafting.store import CorpusStore
from tests.chroma_server import ChromaServer
from tests.conftest import SEEDS, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    srv = ChromaServer(tmp_path / "server-data").start()
    yield srv.url
    srv.stop()


def test_ingest_and_search_through_chroma_server(chroma_server: str, tmp_path: Path) -> None:
    settings = get_settings(store=tmp_path / "local", chroma_url=chroma_server)
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    report = ingest([seeds], settings)
    assert report.added == 5 and report.failed == []
    store = CorpusStore(settings)
    assert store.count() == report.chunks
    assert store.keyword().fingerprint == fingerprint(store.collection.get(include=[])["ids"])
    hits = search(store, "文明城市创建 老旧小区", k=3)
    assert len(hits) == 3 and all(h.chunk.issuer == "市住建局" for h in hits)
    again = ingest([seeds], settings)
    assert again.unchanged == 5 and again.chunks == 0
    # nothing was written to the local persistent store: the server holds the vectors
    assert not (tmp_path / "local" / "chroma.sqlite3").exists()


def test_server_down_gives_clear_error(tmp_path: Path) -> None:
    settings: Any = get_settings(store=tmp_path / "local", chroma_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StoreUnavailableError) as err:
        CorpusStore(settings)
    assert "chroma run" in err.value.help_message


def test_two_app_instances_share_one_chroma_server(chroma_server: str, tmp_path: Path) -> None:
    """The scale-out path: several app instances (each with its own local keyword index folder)
    share the team's Chroma server.  Chroma is the source of truth; each instance's keyword index
    is rebuilt from it when the corpus changed elsewhere."""
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    a = get_settings(store=tmp_path / "machine-a", chroma_url=chroma_server)
    b = get_settings(store=tmp_path / "machine-b", chroma_url=chroma_server)
    ingest([seeds], a)
    store_b = CorpusStore(b)
    assert len(store_b.documents()) == 5
    assert store_b.keyword().fingerprint == fingerprint(store_b.collection.get(include=[])["ids"])
    hits = search(store_b, "文明城市创建", k=5)
    assert hits
    gone = hits[0].chunk.doc_id
    CorpusStore(a).remove_document(gone)  # an admin on machine A removes a document
    reopened = CorpusStore(b)  # machine B's next request opens the store again
    assert gone not in {h.chunk.doc_id for h in search(reopened, "文明城市创建", k=5)}
    assert reopened.keyword().fingerprint == fingerprint(reopened.collection.get(include=[])["ids"])
