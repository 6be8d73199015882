"""LLM endpoint faults seen through the app's 起草 tab (issue #5, "Faults").

The tab's ``generate`` handler is driven directly (it streams, as Gradio would run it) against the
real scripted server :mod:`tests.openai_stub`.  For every fault the writer must get a clear
Chinese message, the text already streamed must be saved in history as a ``partial`` version, the
"改用 offline 引擎重新生成" button must be shown, a retry must work once the endpoint answers
again, and the offline fallback must produce a saved draft.  Drafter- and engine-level behaviour
(backoff counts, timeouts) is in test_drafting_faults.py / test_engines.py.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from drafting.settings import Settings, get_settings
from drafting.ui.app import build_app
from drafting.ui.common import AppContext
from drafting.ui.draft_tab import DraftTab
from tests.conftest import ingested_seeds
from tests.openai_stub import OpenAIStub, Reply

USER = "本机用户"
BULLETS = "老旧小区改造完成120个，惠及居民3.2万户\n新增公共停车泊位1.2万个"
TABLE = [["", "", "", ""]]
GOOD = "（一）城市更新\n扎实推进老旧小区改造，完成120个，惠及居民3.2万户；新增公共停车泊位1.2万个。"
READ_TIMEOUT = 1.0
RETRIES = 1


def _chunk(text: str) -> bytes:
    body = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "stub",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()


@dataclass
class Fault:
    """One way the endpoint misbehaves: what to script, what the writer must read, what is kept."""

    name: str
    replies: list[Reply] = field(default_factory=list)
    words: tuple[str, ...] = ()  # the Chinese message must contain these
    partial: str = ""  # text that must be saved as the ``partial`` version ("" = nothing streamed)
    requests: int = 1  # chat requests the app makes before giving up
    down: bool = False  # the server is not listening at all


FAULTS = [
    Fault("down at start", down=True, words=("连接不上", "已启动", "offline")),
    Fault("cut mid-stream", [Reply(text=GOOD, chunk_chars=4, cut_after=3)], ("断开", "已保留", "offline"),
          partial=GOOD[:12]),
    Fault("hang, no bytes", [Reply(text=GOOD, hang=READ_TIMEOUT + 2)],
          ("没有发送任何内容", "DRAFTING_LLM_READ_TIMEOUT")),
    Fault("stalls mid-stream", [Reply(text=GOOD, chunk_chars=8, delay=READ_TIMEOUT + 2)],
          ("没有发送任何内容", "已保留"), partial=GOOD[:8]),
    Fault("garbage body", [Reply(raw=b"<html><body>502 Bad Gateway</body></html>")],
          ("无法解析", "/v1", "offline")),
    Fault("non-JSON in the stream", [Reply(raw=_chunk(GOOD[:10]) + b"data: {not json at all\n\n")],
          ("无法解析", "offline"), partial=GOOD[:10]),
    Fault("429", [Reply(status=429)] * (RETRIES + 1), ("429", "稍后再试", "offline"), requests=RETRIES + 1),
    Fault("500", [Reply(status=500)] * (RETRIES + 1), ("500", "日志", "offline"), requests=RETRIES + 1),
]


def _stub_on(port: int) -> OpenAIStub:
    """A scripted server bound to ``port`` (the endpoint coming back at the same address)."""
    stub = OpenAIStub()
    handler = stub.server.RequestHandlerClass
    stub.server.server_close()
    stub.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    stub.server.daemon_threads = True
    stub.port, stub.base_url = port, f"http://127.0.0.1:{port}/v1"
    stub._thread = threading.Thread(target=stub.server.serve_forever, daemon=True)
    return stub.start()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = ingested_seeds(tmp_path_factory, "app-faults")
    return settings.store


def _settings(store: Path, base_url: str, tmp_path: Path) -> Settings:
    return get_settings(store=store, data_dir=tmp_path / "data", llm_base_url=base_url, llm_model="stub",
                        llm_retries=RETRIES, llm_read_timeout=READ_TIMEOUT, llm_connect_timeout=2.0)


def run(gen: Iterator[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [copy.deepcopy(step) for step in gen]


def generate(tab: DraftTab, engine: str) -> list[tuple[Any, ...]]:
    return run(tab.generate("城市更新", BULLETS, TABLE, "工作总结", 400, engine))


def _chinese(text: str) -> bool:
    return sum("\u4e00" <= ch <= "\u9fff" for ch in text) >= 12


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_endpoint_fault_is_explained_kept_retried_and_offline_is_offered(
    fault: Fault, store: Path, stub: OpenAIStub, tmp_path: Path
) -> None:
    port = stub.port
    if fault.down:
        stub.stop()
    else:
        stub.enqueue(*fault.replies)
    ctx = AppContext.create(_settings(store, f"http://127.0.0.1:{port}/v1", tmp_path))
    tab = DraftTab(ctx)
    history = ctx.history()

    # 1. the fault: a clear Chinese message in the chat, the status line and a toast-free return
    steps = generate(tab, "openai")
    chat, editor, _annotated, _checks, _cites, state, status, fallback = steps[-1]
    message = chat[-1]["content"]
    assert message.startswith("⚠") and _chinese(message), message
    for word in fault.words:
        assert word in message, (word, message)
    assert "起草模型出错" in status and "改用 offline 引擎重新生成" in status
    assert "Traceback" not in message and "Error" not in message  # no English exception text for the writer
    if not fault.down:
        assert len(stub.requests) == fault.requests

    # 2. what was streamed is kept: in the editor, and as a ``partial`` version in history
    assert editor == fault.partial
    rows = history.versions(USER)
    if fault.partial:
        assert [(v.kind, v.text, v.engine) for v in rows] == [("partial", fault.partial, "openai")]
        assert rows[0].inputs["error"] and rows[0].inputs["bullets"][0].startswith("老旧小区")
        assert f"版本 {rows[0].id}" in status and state["version"] == rows[0].id
    else:
        assert rows == []  # nothing streamed: no empty version is saved
        assert "已保留" not in message and "已保存为版本" not in status  # and nothing is claimed kept
        assert chat[1]["content"] == "（模型没有输出任何文字）"

    # 3. the offline fallback is offered ...
    assert fallback["visible"] is True
    assert ("offline 离线组稿", "offline") in tab.engine_choices()

    # 4. ... and a retry works once the endpoint answers again
    back = _stub_on(port) if fault.down else stub
    try:
        back.enqueue(Reply(text=GOOD, chunk_chars=6))
        retry = generate(tab, "openai")
    finally:
        if fault.down:
            back.stop()
    _c, editor2, _a, _checks2, _ci, state2, status2, fallback2 = retry[-1]
    assert editor2 == GOOD and "已自动保存为版本" in status2 and fallback2["visible"] is False
    latest = history.versions(USER)[0]
    assert ((latest.kind, latest.engine, latest.text, latest.checks["status"])
        == ("draft", "openai", GOOD, "ok"))
    assert latest.id == state2["version"] and "检查通过" in status2

    # 5. the offline fallback (what the button runs) drafts and saves without the endpoint
    if not fault.down:
        stub.stop()  # the fallback must not need the model server at all
    off = generate(tab, "offline")
    _c, editor3, *_rest, status3, fallback3 = off[-1]
    assert "120个" in editor3 and "已自动保存为版本" in status3 and "offline" in status3
    assert fallback3["visible"] is False
    kinds = [(v.kind, v.engine) for v in reversed(history.versions(USER))]
    expect = [("partial", "openai")] if fault.partial else []
    assert kinds == [*expect, ("draft", "openai"), ("draft", "offline")]


def test_the_fallback_button_switches_the_engine_to_offline_and_drafts(store: Path, tmp_path: Path) -> None:
    """The button the fault shows is wired to: engine := offline, then validate, then generate."""
    settings = _settings(store, "http://127.0.0.1:9/v1", tmp_path)
    demo = build_app(settings)
    by_id = {b._id: b for b in demo.blocks.values()} if isinstance(demo.blocks, dict) else {}
    button = next(b for b in by_id.values() if getattr(b, "elem_id", None) == "draft-fallback")
    engine = next(b for b in by_id.values() if getattr(b, "elem_id", None) == "draft-engine")
    assert button.visible is False  # hidden until a fault shows it
    fns = list(demo.fns.values())
    first = next(f for f in fns if (button._id, "click") in [tuple(t) for t in f.targets])
    assert [o._id for o in first.outputs] == [engine._id] and first.fn() == "offline"
    validate = next(f for f in fns if f.trigger_after == first._id)
    generate = next(f for f in fns if f.trigger_after == validate._id)
    assert generate.trigger_only_on_success and generate.fn.__name__ == "generate"
    assert engine._id in [i._id for i in generate.inputs]


# ---- checkpoints: a streaming draft is saved while it streams -------------------------------------------
def _watch(tab: DraftTab, gen: Iterator[tuple[Any, ...]],
           history: Any) -> tuple[list[tuple[Any, ...]], list[Any]]:
    """Run the handler, recording the history rows seen after every streamed step."""
    steps, seen = [], []
    for step in gen:
        steps.append(copy.deepcopy(step))
        seen.append([(v.id, v.kind, v.text) for v in history.versions(USER)])
    return steps, seen


def test_a_streaming_draft_is_checkpointed_and_the_checkpoint_becomes_the_draft(
    store: Path, stub: OpenAIStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drafting.ui import draft_tab

    monkeypatch.setattr(draft_tab, "CHECKPOINT_SECONDS", 0.3)
    stub.enqueue(Reply(text=GOOD, chunk_chars=3, delay=0.1))  # about 2.5 s of streaming
    ctx = AppContext.create(_settings(store, stub.base_url, tmp_path))
    tab, history = DraftTab(ctx), ctx.history()
    _steps, seen = _watch(tab, tab.generate("城市更新", BULLETS, TABLE, "工作总结", 400, "openai"), history)
    during = [rows for rows in seen[:-1] if rows]
    assert during, "no checkpoint was saved while the draft streamed"
    ids = {rows[0][0] for rows in during}
    assert len(ids) == 1  # one row, rewritten in place, not one row per checkpoint
    assert all(rows[0][1] == "partial" and GOOD.startswith(rows[0][2]) for rows in during)
    assert len({rows[0][2] for rows in during}) > 1  # it grew as the text arrived
    final = history.versions(USER)
    assert [(v.id, v.kind, v.text) for v in final] == [(ids.pop(), "draft", GOOD)]
    assert "streaming" not in final[0].inputs and final[0].checks


def test_a_stream_cut_after_a_checkpoint_keeps_one_partial_row(
    store: Path, stub: OpenAIStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drafting.ui import draft_tab

    monkeypatch.setattr(draft_tab, "CHECKPOINT_SECONDS", 0.2)
    stub.enqueue(Reply(text=GOOD, chunk_chars=3, delay=0.1, cut_after=12))
    ctx = AppContext.create(_settings(store, stub.base_url, tmp_path))
    tab, history = DraftTab(ctx), ctx.history()
    _steps, seen = _watch(tab, tab.generate("城市更新", BULLETS, TABLE, "工作总结", 400, "openai"), history)
    assert any(seen[:-1])
    rows = history.versions(USER)
    assert [(v.kind, v.text) for v in rows] == [("partial", GOOD[:36])]
    assert "error" in rows[0].inputs
