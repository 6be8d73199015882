"""Draft history: per-user isolation, restart, threads, kill -9, errors, diff."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drafting.errors import DraftingError, HistoryError
from drafting.history import History, Version, diff_versions
from drafting.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def hist(tmp_path: Path) -> History:
    return History(tmp_path / "data" / "history.sqlite3")


def _save(h: History, user: str = "alice", **kw: object) -> int:
    args: dict[str, object] = {"session": "s1", "kind": "draft", "heading": "一、住房保障", "text": "正文。"}
    args.update(kw)
    return h.save(user, **args)  # type: ignore[arg-type]


def test_save_get_roundtrip(hist: History) -> None:
    vid = hist.save(
        "alice",
        session="s1",
        kind="draft",
        heading="一、住房保障",
        text="新增保障性住房1200套。",
        engine="offline",
        inputs={"bullets": ["新增保障性住房1200套"], "doc_type": "工作总结"},
        citations=[{"doc_id": "abc", "title": "2022年总结", "heading_path": ["一、", "（一）"]}],
        checks={"figures": {"missing": [], "unverified": ["8.5%"]}, "status": "needs_review"},
    )
    v = hist.get("alice", vid)
    assert isinstance(v, Version)
    assert (v.id, v.user, v.session, v.kind, v.engine) == (vid, "alice", "s1", "draft", "offline")
    assert v.text == "新增保障性住房1200套。" and v.heading == "一、住房保障"
    assert v.inputs["bullets"] == ["新增保障性住房1200套"]
    assert v.citations[0]["heading_path"] == ["一、", "（一）"]
    assert v.checks["figures"]["unverified"] == ["8.5%"]
    assert v.parent is None
    assert datetime.fromisoformat(v.created).tzinfo is not None
    assert hist.get("alice", vid + 1000) is None


def test_objects_in_payload_are_converted(hist: History) -> None:
    @dataclass
    class Cit:
        doc_id: str
        heading_path: list[str]

    vid = _save(hist, citations=[Cit("d1", ["一、"])], inputs={"path": Path("/x"), "tags": {"a"}})
    v = hist.get("alice", vid)
    assert v is not None
    assert v.citations == [{"doc_id": "d1", "heading_path": ["一、"]}]
    assert v.inputs == {"path": "/x", "tags": ["a"]}


def test_partial_and_bad_kind(hist: History) -> None:
    vid = _save(hist, kind="partial", text="一、住房保障\n今年以来，我局", engine="openai")
    v = hist.get("alice", vid)
    assert v is not None and v.kind == "partial" and v.text.endswith("我局")
    with pytest.raises(ValueError):
        _save(hist, kind="final")
    with pytest.raises(ValueError):
        hist.save("", session="s", kind="draft", heading="", text="")
    assert hist.count() == 1


def test_list_newest_first_limit_and_session(hist: History) -> None:
    ids = [_save(hist, session="s1" if i % 2 else "s2", text=f"v{i}") for i in range(6)]
    listed = hist.versions("alice")
    assert [v.id for v in listed] == ids[::-1]
    assert [v.id for v in hist.versions("alice", limit=2)] == ids[:-3:-1]
    assert [v.text for v in hist.versions("alice", session="s1")] == ["v5", "v3", "v1"]
    sessions = hist.sessions("alice")
    assert [(s, n) for s, _, n, _ in sessions] == [("s1", 3), ("s2", 3)]
    assert sessions[0][3] == hist.get("alice", ids[5]).created  # type: ignore[union-attr]


def test_sessions_heading_is_latest(hist: History) -> None:
    _save(hist, session="a", heading="旧标题")
    _save(hist, session="a", heading="新标题", kind="refine")
    assert hist.sessions("alice") == [("a", "新标题", 2, hist.versions("alice")[0].created)]


def test_users_are_isolated(hist: History) -> None:
    a = _save(hist, "alice", text="alice 的稿子")
    b = _save(hist, "bob", text="bob 的稿子")
    assert hist.get("bob", a) is None
    assert hist.get("alice", b) is None
    assert [v.text for v in hist.versions("bob")] == ["bob 的稿子"]
    assert [s for s, *_ in hist.sessions("bob")] == ["s1"]
    assert hist.count("alice") == 1 and hist.count("bob") == 1 and hist.count() == 2
    with pytest.raises(KeyError):
        hist.restore("bob", a)
    with pytest.raises(ValueError):
        _save(hist, "bob", kind="refine", parent=a)
    assert hist.count("bob") == 1


def test_restore_copies_version(hist: History) -> None:
    first = _save(hist, text="第一稿", engine="offline", inputs={"bullets": ["x"]},
                  citations=[{"doc_id": "d"}])
    second = _save(hist, kind="refine", text="第二稿", parent=first)
    assert hist.get("alice", second).parent == first  # type: ignore[union-attr]
    new = hist.restore("alice", first)
    v = hist.get("alice", new)
    assert v is not None
    assert (v.kind, v.text, v.parent, v.engine) == ("restore", "第一稿", first, "offline")
    assert v.inputs == {"bullets": ["x"]} and v.citations == [{"doc_id": "d"}]
    assert hist.versions("alice")[0].id == new


def test_survives_restart_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    h = History(path)
    vid = _save(h, text="重启后还在")
    del h
    h2 = History(path)
    assert h2.get("alice", vid).text == "重启后还在"  # type: ignore[union-attr]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    with h2._connect() as c:
        assert c.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_for_settings(tmp_path: Path) -> None:
    h = History.for_settings(get_settings(data_dir=tmp_path / "d"))
    assert h.path == tmp_path / "d" / "history.sqlite3"
    _save(h)
    assert (tmp_path / "d" / "history.sqlite3").is_file()


def test_threads_save_concurrently(hist: History) -> None:
    errors: list[BaseException] = []
    ids: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        try:
            for i in range(25):
                vid = _save(hist, f"user{n % 3}", session=f"t{n}", text=f"{n}-{i}")
                got = hist.get(f"user{n % 3}", vid)
                assert got is not None and got.text == f"{n}-{i}"
                with lock:
                    ids.append(vid)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert hist.count() == 200 and len(set(ids)) == 200
    assert sum(hist.count(f"user{k}") for k in range(3)) == 200
    assert len(hist.versions("user0", limit=1000)) == 75  # threads 0, 3, 6


_CHILD = """
import sys
from pathlib import Path
from drafting.history import History
h = History(Path(sys.argv[1]))
i = 0
while True:
    vid = h.save("u", session="s", kind="draft", heading=f"h{i}", text="正文" * 3000 + f"#{i}",
                 inputs={"i": i, "bullets": ["要点" * 200] * 20}, citations=[{"doc_id": str(i)}] * 200,
                 checks={"i": i})
    print(vid, i, flush=True)
    i += 1
"""


def test_kill_9_leaves_only_complete_rows(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    acked: dict[int, int] = {}
    for _round in range(2):
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(path)], stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        assert proc.stdout is not None
        for seen, line in enumerate(proc.stdout, 1):
            vid, i = map(int, line.split())
            acked[vid] = i
            if seen >= 15:
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        for line in proc.stdout:  # saves acknowledged just before the kill
            vid, i = map(int, line.split())
            acked[vid] = i
        assert proc.returncode == -signal.SIGKILL

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = conn.execute("SELECT id, heading, text, inputs, citations, checks FROM versions").fetchall()
    conn.close()
    for _id, heading, text, inputs, citations, checks in rows:
        i = json.loads(inputs)["i"]
        assert json.loads(checks) == {"i": i}
        assert len(json.loads(citations)) == 200
        assert heading == f"h{i}" and text.endswith(f"#{i}") and len(text) == 6000 + len(f"#{i}")
    h = History(path)
    for vid, i in acked.items():  # every save the child reported is there
        v = h.get("u", vid)
        assert v is not None and v.inputs["i"] == i
    assert len(rows) >= len(acked) >= 30


def test_unwritable_location_is_history_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(HistoryError) as info:
        History(blocker / "data" / "history.sqlite3")
    assert isinstance(info.value, DraftingError)
    assert "DRAFTING_DATA_DIR" in info.value.help_message and "复制保存" in info.value.help_message


def test_not_a_database_is_history_error(tmp_path: Path) -> None:
    bad = tmp_path / "history.sqlite3"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(HistoryError):
        History(bad)
    folder = tmp_path / "dir.sqlite3"
    folder.mkdir()
    with pytest.raises(HistoryError):
        History(folder)


def test_store_broken_after_open_is_history_error(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    h = History(path)
    _save(h)
    for p in tmp_path.glob("h.sqlite3*"):
        p.unlink()
    path.mkdir()  # the file is gone and a folder sits where it was
    with pytest.raises(HistoryError):
        _save(h)
    with pytest.raises(HistoryError):
        h.versions("alice")


# ---------------------------------------------------------------------------------------------
# diff


def _sides(ops: list[tuple[str, str]]) -> tuple[str, str]:
    a = "".join(t for tag, t in ops if tag in ("equal", "delete"))
    b = "".join(t for tag, t in ops if tag in ("equal", "insert"))
    return a, b


def test_diff_numbers_are_whole_tokens() -> None:
    ops = diff_versions("全年新增停车泊位1.2万个，同比增长8.5%。", "全年新增停车泊位1.5万个，同比增长9.1%。")
    assert ("delete", "1.2") in ops and ("insert", "1.5") in ops
    assert ("delete", "8.5%") in ops and ("insert", "9.1%") in ops
    assert ops[0] == ("equal", "全年新增停车泊位")


def test_diff_paragraphs() -> None:
    a = "一、工作回顾\n今年以来，我局扎实推进。\n二、下步打算\n"
    b = "一、工作回顾\n今年以来，我局扎实推进各项工作。\n二、下步打算\n三、保障措施\n"
    ops = diff_versions(a, b)
    assert ("insert", "各项工作") in ops and ("insert", "三、保障措施\n") in ops
    assert not any(tag == "delete" for tag, _ in ops)
    assert diff_versions("同样", "同样") == [("equal", "同样")]
    assert diff_versions("", "新") == [("insert", "新")]


def test_diff_folds_single_char_islands() -> None:
    ops = diff_versions("加快推进城市更新", "全面实施城市更新")
    assert ops == [("delete", "加快推进"), ("insert", "全面实施"), ("equal", "城市更新")]


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="一二三四五六。，、\n0123456789.%ab ", max_size=60),
    st.text(alphabet="一二三四五六。，、\n0123456789.%ab ", max_size=60),
)
def test_diff_reconstructs_both_sides(a: str, b: str) -> None:
    ops = diff_versions(a, b)
    assert _sides(ops) == (a, b)
    assert all(tag in ("equal", "insert", "delete") and text for tag, text in ops)
    assert all(x[0] != y[0] for x, y in itertools.pairwise(ops))  # neighbours merged


def test_update_rewrites_only_the_owners_row(hist: History) -> None:
    vid = hist.save("alice", session="s", kind="partial", heading="h", text="扎实推进", engine="openai")
    assert hist.update("bob", vid, kind="draft", text="bob 的字") is False
    assert hist.get("alice", vid).text == "扎实推进"  # type: ignore[union-attr]
    assert hist.update("alice", vid, kind="draft", text="扎实推进老旧小区改造。", engine="openai",
                       checks={"status": "ok"}) is True
    got = hist.get("alice", vid)
    assert got is not None
    assert (got.kind, got.text, got.checks) == ("draft", "扎实推进老旧小区改造。", {"status": "ok"})
    assert hist.count("alice") == 1
    with pytest.raises(ValueError):
        hist.update("alice", vid, kind="nonsense", text="x")
