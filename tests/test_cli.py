"""The CLI contract: JSON parsed and checked field by field, exit codes, Chinese errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from drafting.cli import main
from tests.conftest import SEEDS


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DRAFTING_STORE", str(tmp_path / "store"))
    monkeypatch.delenv("DRAFTING_CHROMA_URL", raising=False)
    monkeypatch.delenv("DRAFTING_EMBED_BASE_URL", raising=False)
    d = tmp_path / "corpus"
    shutil.copytree(SEEDS, d)
    return d


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    lines = [ln for ln in out.splitlines() if ln.strip()]
    payload = json.loads(lines[0]) if "--json" in argv and lines else None
    if payload is not None:
        assert len(lines) == 1, "--json must print exactly one JSON object"
    return code, payload, err


def test_ingest_json(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (env / "bad.docx").write_bytes(b"not a zip")
    code, out, _ = _run(capsys, "ingest", str(env), "--json")
    assert code == 1  # success that needs review: one file failed
    assert set(out) == {"added", "updated", "unchanged", "failed", "chunks"}
    assert out["added"] == 5 and out["updated"] == 0 and out["unchanged"] == 0
    assert isinstance(out["chunks"], int) and out["chunks"] > 0
    assert len(out["failed"]) == 1
    assert out["failed"][0]["path"].endswith("bad.docx")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in out["failed"][0]["error"])
    (env / "bad.docx").unlink()
    code, out, _ = _run(capsys, "ingest", str(env), "--json")
    assert code == 0 and out == {"added": 0, "updated": 0, "unchanged": 5, "failed": [], "chunks": 0}


def test_search_json(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _run(capsys, "ingest", str(env), "--json")
    code, out, _ = _run(capsys, "search", "老旧小区改造", "--k", "3", "--json")
    assert code == 0
    assert len(out["hits"]) == 3
    for hit in out["hits"]:
        for key, typ in [("chunk_id", str), ("doc_id", str), ("title", str), ("heading_path", list),
                         ("text", str), ("score", float), ("source", str)]:
            assert isinstance(hit[key], typ), key
        assert hit["chunk_id"].startswith(hit["doc_id"])
        assert hit["source"].endswith(".txt")
    scores = [h["score"] for h in out["hits"]]
    assert scores[0] == max(scores)


def test_docs_list_and_remove(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _run(capsys, "ingest", str(env), "--json")
    code, out, _ = _run(capsys, "docs", "list", "--json")
    assert code == 0 and len(out["docs"]) == 5
    first = out["docs"][0]
    assert {"doc_id", "title", "chunks", "figures", "source"} <= set(first)
    code, removed, _ = _run(capsys, "docs", "remove", first["doc_id"], "--json")
    assert code == 0 and removed["removed"]["doc_id"] == first["doc_id"]
    code, out, _ = _run(capsys, "docs", "--json")
    assert len(out["docs"]) == 4 and first["doc_id"] not in {d["doc_id"] for d in out["docs"]}
    code, _, err = _run(capsys, "docs", "remove", "no-such-doc")
    assert code == 2 and "drafting docs list" in err


def test_errors_exit_2_in_chinese(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "search", "住房保障")
    assert code == 2 and "语料库还是空的" in err and "drafting ingest" in err
    code, _, err = _run(capsys, "ingest", str(env / "missing-folder"))
    assert code == 2 and "找不到路径" in err


def test_human_output(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ingest", str(env)])
    out = capsys.readouterr().out
    assert code == 0 and "新增 5 篇" in out
    main(["search", "文明城市"])
    out = capsys.readouterr().out
    assert "[1]" in out and "市住建局" in out
