"""Nothing is downloaded at run time: tiktoken reads the encoding shipped in the package, and the
embedding endpoint, when configured, is the only non-store network peer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from drafting import tokens
from drafting.embedder import EndpointEmbedding, HashedChineseEmbedding
from drafting.ingest import ingest
from drafting.search import search
from drafting.settings import get_settings
from drafting.store import CorpusStore
from tests.conftest import BLOCKED, SEEDS
from tests.openai_stub import OpenAIStub


def test_tiktoken_encoding_ships_with_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty-cache"))
    tokens.encoding.cache_clear()
    n = tokens.count_tokens("市住建局2023年上半年工作总结")
    assert n > 5
    assert not (tmp_path / "empty-cache").exists()  # our own cache dir was used, not the user's
    data = Path(tokens.__file__).parent / "data" / "tiktoken"
    assert any(data.iterdir())


def test_builtin_embedder_is_deterministic_and_meaningful() -> None:
    ef = HashedChineseEmbedding(dim=256)
    a, b, c = ef(["加快推进老旧小区改造", "老旧小区改造加快推进", "召开党风廉政建设会议"])
    assert list(a) == list(HashedChineseEmbedding(dim=256)(["加快推进老旧小区改造"])[0])
    import numpy as np

    assert float(np.dot(a, b)) > float(np.dot(a, c)) + 0.3
    assert HashedChineseEmbedding.build_from_config(ef.get_config()).dim == 256


def test_embedding_endpoint(tmp_path: Path) -> None:
    stub = OpenAIStub().start()
    try:
        settings = get_settings(store=tmp_path / "store", embed_base_url=stub.base_url, embed_model="bge-m3")
        seeds = tmp_path / "seeds"
        shutil.copytree(SEEDS, seeds)
        report = ingest([seeds], settings)
        assert report.added == 5
        store = CorpusStore(settings)
        assert isinstance(store.embedder, EndpointEmbedding)
        hits = search(store, "文明城市创建", k=3)
        assert len(hits) == 3
        paths = [r["path"] for r in stub.requests]
        assert paths and all(p.endswith("/embeddings") for p in paths)
        assert all(r["body"]["model"] == "bge-m3" for r in stub.requests)
    finally:
        stub.stop()


def test_no_foreign_connection_so_far() -> None:
    assert BLOCKED == []


def test_enumeration_keeps_the_lead_in_out_of_the_items() -> None:
    from drafting.offline import to_enumeration

    draft = ("（一）城市更新\n围绕城市更新，重点抓好以下工作：一是扎实推进老旧小区改造，完成120个。"
             "二是新增公共停车泊位1.2万个。三是开展建筑工地扬尘专项整治。")
    out = to_enumeration(draft)
    assert out.startswith("（一）城市更新\n围绕城市更新，重点抓好以下工作：一是扎实推进")
    assert out.count("一是") == 1 and "三是开展" in out
    flat = to_enumeration("（一）城市更新\n扎实推进老旧小区改造，完成120个。新增公共停车泊位1.2万个。")
    assert flat == "（一）城市更新\n一是扎实推进老旧小区改造，完成120个。二是新增公共停车泊位1.2万个。"
