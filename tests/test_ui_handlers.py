"""The UI tab handlers called directly (no browser): drafting, refining, checking, autosave,
engine failure, corpus changes, history per user, export, polish, users and launch refusal."""

from __future__ import annotations

import inspect
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest

from drafting.cli import build_parser, main
from drafting.errors import ConfigError, DraftingError, InputError
from drafting.ingest import ingest
from drafting.settings import get_settings
from drafting.ui.common import AppContext, message_text, normalise_chat, ui_errors
from drafting.ui.corpus_tab import CorpusTab
from drafting.ui.draft_tab import DraftTab, figure_rows
from drafting.ui.history_tab import CURRENT, HistoryTab
from drafting.ui.polish_tab import PolishTab
from drafting.users import add_user, hash_password, load_users, require_accounts, verify
from tests.conftest import SEEDS
from tests.openai_stub import OpenAIStub, Reply

BULLETS = "老旧小区改造完成120个，惠及居民3.2万户\n新增公共停车泊位1.2万个\n开展建筑工地扬尘专项整治"
EMPTY_TABLE = [["", "", "", ""]]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("ui")
    shutil.copytree(SEEDS, root / "corpus")
    settings = get_settings(store=root / "store", data_dir=root / "data")
    ingest([root / "corpus"], settings)
    return settings


@pytest.fixture
def ctx(seeded: Any, tmp_path: Path) -> AppContext:
    """Shared store, but a fresh history (data dir) per test."""
    return AppContext.create(seeded.model_copy(update={"data_dir": tmp_path / "data"}))


def run(gen: Iterator[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Every yield, snapshotted (a handler may keep mutating the chat list it yielded)."""
    import copy

    return [copy.deepcopy(step) for step in gen]


def draft_once(tab: DraftTab, bullets: str = BULLETS, request: Any = None,
               table: Any = None) -> tuple[Any, ...]:
    steps = run(tab.generate("城市更新", bullets, table or EMPTY_TABLE, "工作总结", 400, "offline", request))
    return steps[-1]


# ---- plumbing ------------------------------------------------------------------------------
def test_ui_errors_converts_only_drafting_errors_and_keeps_the_signature() -> None:
    @ui_errors
    def handler(text: str, request: gr.Request = None) -> str:  # type: ignore[assignment]
        if text == "bad":
            raise InputError("请填写<标题>。")
        if text == "bug":
            raise ValueError("a bug")
        return text

    @ui_errors
    def streamer(text: str) -> Iterator[str]:
        yield "first"
        raise InputError("流中出错。")

    assert handler("ok") == "ok"
    with pytest.raises(gr.Error) as info:
        handler("bad")
    assert info.value.message == "请填写&lt;标题&gt;。"
    with pytest.raises(ValueError):
        handler("bug")
    assert inspect.isgeneratorfunction(streamer)
    gen = streamer("x")
    assert next(gen) == "first"
    with pytest.raises(gr.Error, match="流中出错"):
        next(gen)
    # Gradio injects gr.Request by type hint: the wrapper must expose the original annotations
    from gradio.utils import get_type_hints

    assert get_type_hints(handler)["request"] is gr.Request
    assert list(inspect.signature(handler).parameters) == ["text", "request"]


def test_chat_messages_in_gradio6_shape_are_normalised() -> None:
    value = [
        {"role": "user", "metadata": None, "content": [{"text": "改成一是二是三是", "type": "text"}]},
        {"role": "assistant", "content": "一、城市更新"},
        {"role": "assistant", "content": {"type": "text", "text": "已保存"}},
    ]
    assert normalise_chat(value) == [
        {"role": "user", "content": "改成一是二是三是"},
        {"role": "assistant", "content": "一、城市更新"},
        {"role": "assistant", "content": "已保存"},
    ]
    assert message_text([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]) == "ab"
    assert normalise_chat(None) == []


def test_figure_table_rows() -> None:
    import pandas as pd

    rows = figure_rows([["城镇新增就业", "1.5", "万人", "1.2"], ["", "", "", ""], [None, None, None, None]])
    assert [(r.name, r.value, r.unit, r.last) for r in rows] == [("城镇新增就业", "1.5", "万人", "1.2")]
    frame = pd.DataFrame([["泊位", "1.2", "万个", ""]], columns=["指标", "本期数值", "单位", "上期数值"])
    assert figure_rows(frame)[0].value == "1.2"
    with pytest.raises(InputError, match="缺少本期数值"):
        figure_rows([["泊位", "", "万个", ""]])


# ---- 起草 ----------------------------------------------------------------------------------
def test_draft_streams_checks_and_autosaves(ctx: AppContext) -> None:
    tab = DraftTab(ctx)
    steps = run(tab.generate("城市更新", BULLETS, [["城镇新增就业", "1.5", "万人", "1.2"]], "工作总结", 400,
                             "offline"))
    assert len(steps) >= 2  # a first yield before the engine finishes, then the result
    chat, editor, annotated, checks, cites, state, status, fallback = steps[-1]
    assert editor.startswith("城市更新\n") and "120个" in editor  # the writer's heading, no number invented
    assert chat[0]["role"] == "user" and "城市更新" in chat[0]["content"]
    assert chat[1]["content"].startswith("城市更新\n")
    for figure in ("120个", "3.2万户", "1.2万个"):
        assert figure in checks
    assert 'class="m-ok"' in annotated and 'id="para-1"' in annotated
    assert "文风符合度" in checks
    assert "为版本" in status and fallback["visible"] is False
    versions = ctx.history().versions("本机用户")
    assert [v.kind for v in versions] == ["draft"]
    v = versions[0]
    assert v.text == editor and v.engine == "offline" and v.id == state["version"]
    assert v.inputs["bullets"][0].startswith("老旧小区") and v.inputs["figures"][0][0] == "城镇新增就业"
    assert v.checks["figures"]["provided"] and "conformance" in v.checks
    assert v.citations and "paragraphs" in v.citations[0]
    # nothing was borrowed from a past passage: the retrieved ones are shown apart, unlinked
    assert all(c.get("reference") and c["paragraphs"] == [] for c in v.citations)
    assert "本稿没有借用往年材料的文字" in cites and "可参考的往年段落" in cites and "用于稿件" not in cites


def test_user_html_is_escaped_everywhere(ctx: AppContext) -> None:
    tab = DraftTab(ctx)
    out = draft_once(tab, BULLETS + "\n<script>alert(1)</script><img src=x onerror=alert(2)>")
    chat, editor, annotated, checks, cites, _state, status, _f = out
    assert "<script>" in editor  # the editor holds the plain text
    for html in (chat[0]["content"], chat[1]["content"], annotated, checks, cites, status):
        assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in chat[0]["content"] and "&lt;script&gt;" in annotated


def test_empty_input_is_refused_in_chinese(ctx: AppContext) -> None:
    tab = DraftTab(ctx)
    with pytest.raises(gr.Error, match="标题和要点都是空的"):
        tab.validate("", "", EMPTY_TABLE, "工作总结", 400)
    with pytest.raises(gr.Error, match="目标字数"):
        tab.validate("城市更新", BULLETS, EMPTY_TABLE, "工作总结", "很多")
    with pytest.raises(gr.Error, match="修改要求是空的"):
        tab.validate_refine("  ", "一、城市更新")
    assert ctx.history().count() == 0


def test_refine_edit_and_recheck_are_saved_with_parents(ctx: AppContext) -> None:
    tab = DraftTab(ctx)
    chat, editor, *_rest, state, _s, _f = draft_once(tab)
    steps = run(tab.refine_turn("改成一是二是三是", editor, chat, state, "offline"))
    chat2, editor2, _annotated2, _checks2, _c, state2, _status2, _f2, cleared = steps[-1]
    assert "一是" in editor2 and "二是" in editor2 and cleared == ""
    assert chat2[-3]["content"] == "改成一是二是三是" and "列举" in chat2[-1]["content"]
    edited = editor2 + "\n全年新增口袋公园99个。"
    annotated3, checks3, _c3, state3, status3 = tab.recheck(edited, state2)
    # the writer typed 99个: it is their own edit, not a figure without a source
    assert "99个" in checks3 and "出处：你的修改" in checks3 and "无出处，" not in checks3
    assert '<mark class="m-bad"' not in annotated3 and "需要复核" not in checks3
    assert "已自动保存" in status3
    kinds = [(v.kind, v.parent) for v in reversed(ctx.history().versions("本机用户"))]
    ids = [v.id for v in reversed(ctx.history().versions("本机用户"))]
    assert kinds == [("draft", None), ("refine", ids[0]), ("edit", ids[1])]
    # re-checking the same text again, or leaving the editor unchanged, saves nothing new
    tab.recheck(edited, state3)
    tab.recheck(edited, state2)  # a stale state (a blur racing a click): still no duplicate
    tab.autosave(edited, state3)
    assert ctx.history().count("本机用户") == 3
    tab.autosave(edited + "再补一句。", state3)  # leaving the editor after a change autosaves it
    assert ctx.history().versions("本机用户")[0].text.endswith("再补一句。")
    assert ctx.history().count("本机用户") == 4
    assert ctx.history().versions("本机用户")[1].checks["status"] == "ok"


def test_an_instruction_offline_cannot_do_is_explained_and_nothing_is_lost(ctx: AppContext) -> None:
    tab = DraftTab(ctx)
    chat, editor, *_r, state, _s, _f = draft_once(tab)
    steps = run(tab.refine_turn("语气再正式一些", editor, chat, state, "offline"))
    chat2, editor2, *_rest, status, _fallback, instruction = steps[-1]
    assert "offline 引擎做不到" in chat2[-1]["content"] and "offline 引擎做不到" in status
    assert isinstance(editor2, dict) and isinstance(instruction, dict)  # gr.skip(): the draft stays as it was
    assert [v.kind for v in ctx.history().versions("本机用户")] == ["draft"]


def test_refine_starts_from_the_writers_edits(ctx: AppContext) -> None:
    tab = DraftTab(ctx)
    chat, editor, *_r, state, _s, _f = draft_once(tab)
    edited = editor.replace("城市更新", "城市更新行动", 1)
    steps = run(tab.refine_turn("改成一是二是三是", edited, chat, state, "offline"))
    versions = list(reversed(ctx.history().versions("本机用户")))
    assert [v.kind for v in versions] == ["draft", "edit", "refine"]
    assert versions[1].text == edited and "城市更新行动" in steps[-1][1]


def test_engine_failure_keeps_the_partial_text_and_offers_offline(seeded: Any, tmp_path: Path,
                                                                   stub: OpenAIStub) -> None:
    settings = seeded.model_copy(update={"data_dir": tmp_path / "data", "llm_base_url": stub.base_url,
                                         "llm_model": "stub", "llm_retries": 0})
    ctx = AppContext.create(settings)
    tab = DraftTab(ctx)
    assert ("openai 模型服务", "openai") in tab.engine_choices()
    text = "一、城市更新\n围绕城市更新，扎实推进老旧小区改造，完成120个。新增公共停车泊位1.2万个。"
    stub.enqueue(Reply(text=text, chunk_chars=4, cut_after=3, delay=0.05))
    steps = run(tab.generate("城市更新", BULLETS, EMPTY_TABLE, "工作总结", 400, "openai"))
    chat, editor, _annotated, _checks, _c, _state, status, fallback = steps[-1]
    partial = text[:12]
    assert editor == partial and chat[1]["content"] == partial
    assert "断开" in chat[-1]["content"] and "起草模型出错" in status
    assert fallback["visible"] is True
    saved = ctx.history().versions("本机用户")
    assert [v.kind for v in saved] == ["partial"] and saved[0].text == partial
    assert saved[0].inputs["error"]
    # streaming was visible: an intermediate yield held less than the partial text
    shown = [s[0][1]["content"] for s in steps[1:-1]]
    assert any(0 < len(t) < len(partial) for t in shown)


def test_openai_draft_streams_into_the_chat(seeded: Any, tmp_path: Path, stub: OpenAIStub) -> None:
    settings = seeded.model_copy(update={"data_dir": tmp_path / "data", "llm_base_url": stub.base_url,
                                         "llm_model": "stub", "llm_retries": 0})
    tab = DraftTab(AppContext.create(settings))
    text = ("一、城市更新\n坚持问题导向，扎实推进老旧小区改造，完成120个，惠及居民3.2万户；"
            "新增公共停车泊位1.2万个。")
    stub.enqueue(Reply(text=text, chunk_chars=3, delay=0.05))
    steps = run(tab.generate("城市更新", BULLETS, EMPTY_TABLE, "工作总结", 400, "openai"))
    contents = [s[0][1]["content"] for s in steps[1:-1]]
    assert len({c for c in contents if c and c != "正在检索往年材料…"}) >= 2
    assert steps[-1][1] == text and "openai" in steps[-1][6]
    assert stub.requests and stub.requests[-1]["body"]["stream"] is True


def test_engine_status_never_raises(ctx: AppContext) -> None:
    tab = DraftTab(ctx)
    assert "offline" in tab.engine_status("offline") and "dot ok" in tab.engine_status("offline")
    assert "DRAFTING_LLM_BASE_URL" in tab.engine_status("openai")


# ---- 语料库 --------------------------------------------------------------------------------
def test_corpus_upload_remove_and_admin_only(tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    add_user(users, "管理员", "secret-pass-1", admin=True)
    add_user(users, "写手", "secret-pass-2")
    settings = get_settings(store=tmp_path / "store", data_dir=tmp_path / "data", users_file=users,
                            max_file_mb=0.01)
    ctx = AppContext.create(settings)
    tab = CorpusTab(ctx)
    admin, writer = SimpleNamespace(username="管理员"), SimpleNamespace(username="写手")
    src = tmp_path / "in"
    src.mkdir()
    good = src / "二〇二三年城建工作总结.txt"
    good.write_text("市住建局2023年城建工作总结\n一、城市更新\n扎实推进老旧小区改造，完成改造*个。\n",
                    encoding="utf-8")
    big = src / "太大.txt"
    big.write_text("很长的材料。" * 3000, encoding="utf-8")
    calls: list[Any] = []

    def progress(*args: Any, **kwargs: Any) -> None:
        calls.append((args, kwargs))

    with pytest.raises(gr.Error, match="不是管理员"):
        tab.upload([str(good)], writer, progress)
    for precheck in (lambda: tab.check_upload([str(good)], writer), lambda: tab.check_admin(writer),
                     lambda: tab.check_remove("x", writer)):
        with pytest.raises(gr.Error, match="不是管理员"):
            precheck()
    tab.check_upload([str(good)], admin)
    tab.check_admin(admin)
    with pytest.raises(gr.Error, match="还没有选择文件"):
        tab.check_upload([], admin)
    with pytest.raises(gr.Error, match="还没有选择文件"):
        tab.upload([], admin, progress)
    rows, line, docs, _pick, style, openers, _verbs, cleared = tab.upload([str(good), str(big)], admin,
                                                                          progress)
    by_name = {r[0]: r for r in rows}
    assert by_name[good.name][1] == "新增" and by_name[big.name][1] == "失败"
    assert "超过上限" in by_name[big.name][3]
    assert "新增 1 篇" in line and "失败 1 篇" in line and cleared is None
    assert calls and any("正在导入" in str(kw.get("desc")) for _a, kw in calls)
    assert len(docs) == 1 and docs[0][4] >= 1  # chunk count
    assert (settings.data_path() / "uploads" / good.name).is_file()
    assert "文风档案" in style and list(openers.columns) == ["开头词", "次数"]
    rows2, *_ = tab.upload([str(good)], admin, progress)
    assert rows2[0][1] == "未变"
    doc_id = docs[0][0]
    with pytest.raises(gr.Error, match="不是管理员"):
        tab.remove(doc_id, writer)
    with pytest.raises(gr.Error, match="不是管理员"):
        tab.reindex(writer, progress)
    message, docs_after, *_ = tab.remove(doc_id, admin)
    assert "已删除" in message and docs_after == []


def test_corpus_search_and_reindex(ctx: AppContext) -> None:
    tab = CorpusTab(ctx)
    html = tab.search("老旧小区改造", 3)
    assert html.count("<li>") == 3 and "相关度" in html
    with pytest.raises(gr.Error, match="检索内容是空的"):
        tab.search(" ", 3)
    message, docs, *_ = tab.reindex(None, lambda *a, **k: None)
    assert "重新索引完成：5 个文件" in message and "未变 5 篇" in message and len(docs) == 5


# ---- 历史与导出 ------------------------------------------------------------------------------
def test_history_is_per_user_and_restores(tmp_path: Path, seeded: Any) -> None:
    users = tmp_path / "users.json"
    add_user(users, "alice", "password-a")
    add_user(users, "bob", "password-b")
    ctx = AppContext.create(seeded.model_copy(update={"data_dir": tmp_path / "data", "users_file": users}))
    draft, history = DraftTab(ctx), HistoryTab(ctx)
    history.draft = draft
    alice, bob = SimpleNamespace(username="alice"), SimpleNamespace(username="bob")
    with pytest.raises(gr.Error, match="登录已失效"):
        draft_once(draft)  # accounts on, no user: refused
    _chat, editor, *_r, state, _s, _f = draft_once(draft, request=alice)
    rows_a, *_ = history.refresh(state, alice)
    rows_b, pick_b, *_ = history.refresh(None, bob)
    assert len(rows_a) == 1 and rows_b == [] and pick_b["choices"] == []
    vid = rows_a[0][0]
    with pytest.raises(gr.Error, match="找不到版本"):
        history.open(vid, bob)
    with pytest.raises(gr.Error, match="找不到版本"):
        history.restore(vid, bob)
    meta, view = history.open(vid, alice)
    assert f"版本 {vid}" in meta and "城市更新" in view
    *draft_outputs, tabs = history.restore(vid, alice)
    assert tabs.selected == "draft"
    assert draft_outputs[1] == editor and draft_outputs[5]["version"] != vid
    versions = ctx.history().versions("alice")
    assert [v.kind for v in versions] == ["restore", "draft"] and versions[0].parent == vid
    meta, _diff = history.compare(versions[1].id, versions[0].id, alice)
    assert "内容相同" in meta


def test_compare_colours_changes(ctx: AppContext) -> None:
    draft, history = DraftTab(ctx), HistoryTab(ctx)
    history.draft = draft
    _chat, editor, *_r, state, _s, _f = draft_once(draft)
    draft.recheck(editor.replace("120个", "130个"), state)
    new, old = [v.id for v in ctx.history().versions("本机用户")]
    meta, diff = history.compare(old, new, None)
    assert "<del>" in diff and "<ins>" in diff and "新增" in meta


def test_export_docx_and_markdown(ctx: AppContext) -> None:
    from docx import Document

    draft, history = DraftTab(ctx), HistoryTab(ctx)
    history.draft = draft
    _c, _editor1, *_r, state1, _s, _f = draft_once(draft)
    steps = run(draft.generate("住房保障", "新开工保障性租赁住房1500套", EMPTY_TABLE, "工作总结", 400,
                               "offline"))
    state2 = steps[-1][5]
    _rows, _p, _o, _n, sections = history.refresh(state2, None)
    keys = [v for _label, v in sections["choices"]]
    assert keys[0] == CURRENT and state1["session"] in keys
    with pytest.raises(gr.Error, match="勾选至少一节"):
        history.export_docx([], "", "", "", steps[-1][1], state2)
    path, message, _force, _pending = history.export_docx(
        [state1["session"], CURRENT], "市住建局2024年工作总结", "市住房和城乡建设局", "2024年7月10日",
        steps[-1][1], state2)
    assert Path(path).suffix == ".docx" and Path(path).is_file() and "已导出 2 节" in message
    text = "\n".join(p.text for p in Document(path).paragraphs)
    assert "市住建局2024年工作总结" in text and "120个" in text and "1500套" in text
    md_path, _m, _force, _pending = history.export_markdown([CURRENT], "", "", "",
                                                            steps[-1][1] + "\n补充一句。", state2)
    md = Path(md_path).read_text(encoding="utf-8")
    assert "1500套" in md and "补充一句" in md
    assert ctx.history().versions("本机用户")[0].kind == "edit"  # the unsaved edit was saved first



def test_export_refuses_characters_word_cannot_hold_in_chinese(ctx: AppContext) -> None:
    """Issue #11: a NUL in the title made python-docx raise a bare ValueError (an empty toast)."""
    draft, history = DraftTab(ctx), HistoryTab(ctx)
    history.draft = draft
    _c, editor, *_r, state, _s, _f = draft_once(draft)
    for title, issuer, text, where in (("标题\x00", "", editor, "文件标题第3个字符"),
                                       ("标题", "住建局\x1b", editor, "落款单位第4个字符"),
                                       ("标题", "", editor + "\n末尾\x07", "第1节")):
        with pytest.raises(gr.Error, match="无法写入 Word 的控制字符") as info:
            history.export_docx([CURRENT], title, issuer, "", text, state)
        assert where in str(info.value) and "删去" in str(info.value)
    # Markdown can hold it
    path, _m, *_f = history.export_markdown([CURRENT], "标题\x00", "", "", editor, state)
    assert Path(path).is_file()


# ---- the editor: size limit, save first, linear rendering (issue #11) ---------------------------
def test_editor_over_the_limit_is_refused_in_chinese_and_nothing_is_saved(ctx: AppContext) -> None:
    tab = DraftTab(ctx)
    history = HistoryTab(ctx)
    history.draft = tab
    _c, editor, *_r, state, _s, _f = draft_once(tab)
    limit = 20_000  # a report section; the default of DRAFTING_MAX_EDITOR_CHARS
    huge = editor + "\n" + "扎实推进城市更新。" * (limit // 9 + 1)
    before = ctx.history().count()
    for call in (lambda: tab.check_editor(huge), lambda: tab.save_edit(huge, state),
                 lambda: tab.recheck(huge, state), lambda: tab.autosave(huge, state),
                 lambda: tab.validate_refine("压缩到300字", huge),
                 lambda: history.export_docx([CURRENT], "", "", "", huge, state)):
        with pytest.raises(gr.Error, match=f"文字太长（{len(huge)}字，上限{limit}字）") as info:
            call()
        assert "没有丢失" in str(info.value)
    assert ctx.history().count() == before  # nothing of the over-long text was stored
    assert ctx.settings.max_editor_chars == limit
    assert state["text"] == editor
    ok = editor + "\n" + "扎实推进城市更新。" * ((limit - len(editor)) // 9 - 1)
    assert len(ok) <= limit
    tab.check_editor(ok)
    annotated, *_rest = tab.recheck(ok, state)
    assert ctx.history().versions("本机用户")[0].text == ok and 'id="para-1"' in annotated


def test_an_edit_is_saved_before_it_is_checked(ctx: AppContext) -> None:
    """The save step stores the text with no checks; the render step adds them to the same row."""
    tab = DraftTab(ctx)
    _c, editor, *_r, state, _s, _f = draft_once(tab)
    edited = editor + "\n全年新增口袋公园99个，投资5.6亿元。"
    state2, status = tab.save_edit(edited, state)
    saved = ctx.history().versions("本机用户")[0]
    assert saved.text == edited and saved.kind == "edit" and saved.checks == {}
    assert f"版本 {saved.id}" in status
    _annotated, checks, _cites, state3, status3 = tab.render_edit(edited, state2)
    # 99个 is the writer's own edit (你的修改); 5.6亿元 was typed too, so both are green: the check runs
    assert "99个" in checks and "出处：你的修改" in checks and "已重新检查" in status3
    assert ctx.history().get("本机用户", saved.id).checks["status"] == "ok"
    assert ctx.history().count("本机用户") == 2
    assert tab.render_if_unchecked(edited, state3)[0]["__type__"] == "update"  # nothing new: no second render


def test_the_editor_save_never_shares_a_queue_slot_with_a_check(ctx: AppContext) -> None:
    """Issue #11: 重新检查 and the autosave shared one slot for all writers (concurrency_id
    "draft-save", limit 1), so one writer's slow check held every writer's save."""
    from drafting.ui.app import build_app

    demo = build_app(ctx.settings, ctx)
    fns = list(demo.fns.values())
    tab = next(d.fn.__self__ for d in fns if getattr(d.fn, "__name__", "") == "generate")
    saves = [d for d in fns if d.fn == tab.save_edit]
    renders = [d for d in fns if d.fn in (tab.render_edit, tab.render_if_unchecked)]
    assert len(saves) == 2 and len(renders) == 2  # 重新检查 and leaving the editor
    for d in saves:
        assert d.concurrency_limit is None  # never queued behind anything
        assert all(d.concurrency_id != r.concurrency_id for r in renders)
    assert not any(d.concurrency_id == "draft-save" for d in fns)


def _counting_render(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count reads of a mark's position and calls of ``paragraphs`` inside drafting.ui.render."""
    from drafting.ui import render

    counts = {"reads": 0, "paragraphs": 0}

    class CountingMark(render.Mark):
        def __getattribute__(self, name: str) -> Any:
            if name in ("start", "end"):
                counts["reads"] += 1
            return object.__getattribute__(self, name)

    real_paragraphs = render.paragraphs

    def paragraphs(text: str) -> Any:
        counts["paragraphs"] += 1
        return real_paragraphs(text)

    monkeypatch.setattr(render, "Mark", CountingMark)
    monkeypatch.setattr(render, "paragraphs", paragraphs)
    return counts


def test_rendering_is_linear_in_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Operations, not seconds: doubling the text doubles the work (the old panels compared every mark
    with every kept mark and every paragraph with every mark, and scanned all paragraphs per figure)."""
    from drafting.drafter import check
    from drafting.ui.render import annotated_html, checks_html

    para = "老旧小区改造完成120个，惠及居民3.2万户，新增泊位1.2万个，同比增长8.5%，投资3.2亿元。\n"
    counts = _counting_render(monkeypatch)
    work = []
    for n in (200, 400):
        text = para * n
        guard, terms = check(text, "老旧小区改造完成120个，惠及居民3.2万户", [])
        counts.update(reads=0, paragraphs=0)
        annotated = annotated_html(text, guard, terms)
        checks = checks_html(text, guard, terms)
        work.append(counts["reads"])
        assert counts["paragraphs"] <= 2  # once per panel, not once per figure
        # right for a large input too: every paragraph, every figure marked, each in its own paragraph
        assert annotated.count('<p id="para-') == n and f'id="para-{n}"' in annotated
        assert annotated.count("<mark ") == 5 * n
        assert annotated.count('class="m-ok"') == 2 * n  # the two figures given in the bullets
        assert "见第1、2、3" in checks and f"第{n}段：无出处" in checks
    assert work[1] <= 2.2 * work[0], work


# ---- 润色 ----------------------------------------------------------------------------------
def test_polish_accept_and_reject_each_suggestion(ctx: AppContext) -> None:
    tab = PolishTab(ctx, [("offline 离线组稿", "offline")], "offline")
    text = "我们大力推进老旧小区改造，老百姓很满意。深入学习习近平新时代中国特色思想。"
    state, choices, cards, result, _diff, _notes = tab.suggest(text, "offline")
    ids = [v for _label, v in choices["choices"]]
    assert len(ids) >= 2 and result == text and "<del>" in cards and "理由" in cards
    term = next(s for s in state["suggestions"] if "社会主义" in s.suggestion)
    accepted, cards2, result2, diff2, _n, state = tab.apply([term.id], state)
    assert "习近平新时代中国特色社会主义思想" in result2 and "<ins>社会主义</ins>" in diff2
    assert accepted == [term.id] and "已采纳" in cards2
    accepted, _c, result3, _d, _n, state = tab.apply([], state)
    assert result3 == text and accepted == []
    _a, _c, result4, _d, note, state = tab.accept_all(state)
    assert result4 != text and "已采纳" in note
    with pytest.raises(gr.Error, match="要润色的文字是空的"):
        tab.suggest("  ", "offline")
    with pytest.raises(gr.Error, match="文字太长（20001字，上限20000字）"):
        tab.check_text("改" * 20_001)


def test_polish_refuses_two_overlapping_suggestions(ctx: AppContext) -> None:
    from drafting.polish import Suggestion

    tab = PolishTab(ctx, [("offline 离线组稿", "offline")], "offline")
    text = "老百姓很满意。"
    suggestions = [Suggestion("rule", 0, 3, "老百姓", "群众", "文风"),
                   Suggestion("rule", 0, 7, text, "群众满意。", "x")]
    suggestions[0].id, suggestions[1].id = "s1", "s2"
    state = {"text": text, "suggestions": suggestions, "accepted": ["s1"]}
    accepted, _c, result, _d, note, _st = tab.apply(["s1", "s2"], state)
    assert accepted == ["s1"] and result == "群众很满意。" and "只能接受其中一条" in note


# ---- users and launch ----------------------------------------------------------------------
def test_users_file_hashes_and_verifies(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    add_user(path, "张三", "correct horse", admin=True)
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["users"][0]["name"] == "张三" and "correct horse" not in path.read_text(encoding="utf-8")
    users = load_users(path)
    assert users["张三"].admin and verify(users, "张三", "correct horse")
    assert not verify(users, "张三", "wrong") and not verify(users, "李四", "correct horse")
    with pytest.raises(InputError, match="密码太短"):
        hash_password("short")
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match="users"):
        load_users(path)
    with pytest.raises(ConfigError, match="找不到用户文件"):
        load_users(tmp_path / "none.json")


def test_users_cli_and_serve_parser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    import io
    import sys

    path = tmp_path / "u.json"
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-password\n"))
    assert main(["users", "add", "王五", "--admin", "--file", str(path), "--password-stdin"]) == 0
    assert verify(load_users(path), "王五", "a-long-password") and load_users(path)["王五"].admin
    assert "王五" in capsys.readouterr().out
    args = build_parser().parse_args(["serve", "--host", "127.0.0.1", "--port", "8123"])
    assert args.port == 8123 and args.host == "127.0.0.1"


def test_refuses_to_serve_beyond_loopback_without_accounts(tmp_path: Path) -> None:
    from drafting.ui.app import launch

    require_accounts("127.0.0.1", None)
    with pytest.raises(ConfigError, match="没有设置用户文件"):
        require_accounts("0.0.0.0", None)
    with pytest.raises(DraftingError, match="没有设置用户文件"):
        launch(get_settings(store=tmp_path / "s", data_dir=tmp_path / "d", host="0.0.0.0"))
    assert main(["serve", "--host", "0.0.0.0"]) == 2


# ---- provenance: no laundering (refine, 确认, restore, export, garbage, 全部采纳) -------------------
ENGINE_TEXT = ("一、城市更新\n全市老旧小区改造完成120个，惠及居民3.2万户，新增公共停车泊位1.2万个。"
               "棚户区改造完成3300套，完成投资5.6亿元。")


def stub_draft(seeded: Any, tmp_path: Path, stub: OpenAIStub) -> tuple[AppContext, DraftTab, tuple[Any, ...]]:
    """A model's draft that carries two figures nobody gave (3300套, 5.6亿元)."""
    settings = seeded.model_copy(update={"data_dir": tmp_path / "data", "llm_base_url": stub.base_url,
                                         "llm_model": "stub", "llm_retries": 0})
    ctx = AppContext.create(settings)
    tab = DraftTab(ctx)
    stub.enqueue(Reply(text=ENGINE_TEXT))
    out = run(tab.generate("城市更新", BULLETS, EMPTY_TABLE, "工作总结", 400, "openai"))[-1]
    assert out[1] == ENGINE_TEXT
    return ctx, tab, out


def flagged_values(tab: DraftTab, editor: str, state: Any) -> list[str]:
    return [v for _label, v in tab.flagged_choices(editor, state)["choices"]]


def test_a_chat_turn_that_changes_nothing_does_not_turn_red_figures_green(seeded: Any, tmp_path: Path,
                                                                           stub: OpenAIStub) -> None:
    ctx, tab, (chat, editor, _a, checks, _c, state, status, _f) = stub_draft(seeded, tmp_path, stub)
    assert "需要复核" in status and "3300套" in checks and "5.6亿元" in checks
    assert sorted(flagged_values(tab, editor, state)) == ["3300套", "5.6亿元"]
    steps = run(tab.refine_turn("压缩到150字", editor, chat, state, "offline"))
    _chat2, editor2, annotated2, checks2, _c2, state2, status2, _f2, _i = steps[-1]
    assert editor2 == editor  # the turn changed no text
    assert "需要复核" in status2 and "检查通过" not in status2
    assert checks2.count("要点和数字表里都没有") == 2
    assert annotated2.count('<mark class="m-bad"') == 2
    latest = ctx.history().versions("本机用户")[0]
    assert latest.kind == "refine" and latest.checks["status"] == "needs_review"
    assert sorted(f["text"] for f in latest.checks["figures"]["unverified"]) == ["3300套", "5.6亿元"]
    assert sorted(flagged_values(tab, editor2, state2)) == ["3300套", "5.6亿元"]


def test_a_figure_the_writer_types_is_their_edit(ctx: AppContext) -> None:
    tab = DraftTab(ctx)
    _chat, editor, *_r, state, _s, _f = draft_once(tab)
    annotated, checks, _c, state2, _st = tab.recheck(editor + "\n全年新增口袋公园99个。", state)
    assert "99个" in checks and "出处：你的修改" in checks and "出处：要点1" in checks
    assert "无出处，" not in checks and '<mark class="m-bad"' not in annotated
    assert ctx.history().versions("本机用户")[0].checks["status"] == "ok"
    assert flagged_values(tab, state2["text"], state2) == []


def test_confirm_is_recorded_shown_and_survives_restore(seeded: Any, tmp_path: Path,
                                                        stub: OpenAIStub) -> None:
    ctx, tab, (_chat, editor, _a, _checks, _c, state, _s, _f) = stub_draft(seeded, tmp_path, stub)
    history_tab = HistoryTab(ctx)
    history_tab.draft = tab
    with pytest.raises(gr.Error, match="请先在“需要你确认的数字”里勾选"):
        tab.confirm([], editor, state)
    annotated, checks, _c, state2, status, flagged = tab.confirm(["3300套"], editor, state)
    assert "已确认：3300套" in status and "担保" in status
    assert "出处：你的确认" in checks and checks.count("要点和数字表里都没有") == 1
    assert annotated.count('<mark class="m-bad"') == 1
    assert [v for _l, v in flagged["choices"]] == ["5.6亿元"]
    (c,) = ctx.history().confirmations("本机用户", state["session"])
    assert c.figure == "3300套" and "棚户区改造完成3300套" in c.context and c.version == state2["version"]
    assert ctx.history().confirmations("别人", state["session"]) == []
    meta, _view = history_tab.open(state2["version"])
    assert "你确认过的数字" in meta and "3300套" in meta
    # restore the model's first version: the confirmation belongs to the section and stays
    first = ctx.history().versions("本机用户")[-1]
    assert first.kind == "draft"
    out = history_tab.restore(first.id)
    _chat3, _editor3, _annotated3, checks3, _c3, state3, _st3, _f3, *_inputs, _tabs = out
    assert "出处：你的确认" in checks3 and "5.6亿元" in checks3 and checks3.count("要点和数字表里都没有") == 1
    assert flagged_values(tab, state3["text"], state3) == ["5.6亿元"]


def test_restoring_a_version_does_not_restore_green_checks(ctx: AppContext) -> None:
    tab, history_tab = DraftTab(ctx), HistoryTab(ctx)
    history_tab.draft = tab
    inputs = {"heading": "城市更新", "bullets": BULLETS.split("\n"), "figures": [], "doc_type": "工作总结",
              "target_chars": 400}
    hist = ctx.history()
    first = hist.save("本机用户", session="s1", kind="draft", heading="城市更新", text=ENGINE_TEXT,
                      engine="openai", inputs=inputs, checks={"status": "needs_review"})
    # the refine row today's code saved: 3300套 and 5.6亿元 laundered to green
    laundered = hist.save("本机用户", session="s1", kind="refine", heading="城市更新", text=ENGINE_TEXT,
                          engine="offline", inputs={**inputs, "instruction": "压缩到150字"},
                          checks={"status": "ok", "figures": {"unverified": []}}, parent=first)
    out = history_tab.restore(laundered)
    checks = out[3]
    restored = hist.versions("本机用户")[0]
    assert restored.kind == "restore" and restored.parent == laundered
    assert restored.checks["status"] == "needs_review"
    assert sorted(f["text"] for f in restored.checks["figures"]["unverified"]) == ["3300套", "5.6亿元"]
    assert "需要复核" in checks and checks.count("要点和数字表里都没有") == 2
    rows = history_tab.refresh(None, None)[0]
    assert rows[0][-1] == "需复核"


def test_export_of_a_section_that_needs_review_lists_its_problems_and_asks(seeded: Any, tmp_path: Path,
                                                                          stub: OpenAIStub) -> None:
    from docx import Document

    ctx, tab, (_chat, editor, _a, _checks, _c, state, _s, _f) = stub_draft(seeded, tmp_path, stub)
    history_tab = HistoryTab(ctx)
    history_tab.draft = tab
    for export in (history_tab.export_docx, history_tab.export_markdown):
        path, message, force, pending = export([CURRENT], "城市更新", "", "", editor, state)
        assert path is None and force["visible"] is True and pending in ("docx", "md")
        assert ("尚未导出" in message and "3300套" in message and "5.6亿元" in message
                and "仍然导出" in message)
        assert not list(ctx.exports_dir("本机用户").glob("*/*"))  # nothing written
    # a section picked from the history is checked the same way
    _p, message, _f2, _pend = history_tab.export_docx([state["session"]], "城市更新", "", "", "", None)
    assert "尚未导出" in message and "3300套" in message
    with pytest.raises(gr.Error, match="请先点“导出 Word”"):
        history_tab.export_anyway("", [CURRENT], "城市更新", "", "", editor, state)
    path, message, force, pending = history_tab.export_anyway("docx", [CURRENT], "城市更新", "", "", editor,
                                                              state)
    assert Path(path).is_file() and "已导出 1 节" in message and "经你确认后仍然导出" in message
    assert force["visible"] is False and pending == ""
    assert "3300套" in "\n".join(p.text for p in Document(path).paragraphs)
    # once the writer confirms both figures there is nothing left to ask about
    tab.confirm(["3300套", "5.6亿元"], editor, state)
    path, message, force, _p = history_tab.export_docx([CURRENT], "城市更新", "", "", editor, state)
    assert Path(path).is_file() and "已导出 1 节：" in message and force["visible"] is False


def test_garbage_input_is_refused_in_chinese_and_nothing_typed_is_lost(ctx: AppContext) -> None:
    tab = DraftTab(ctx)
    with gr.Blocks():
        tab.build()
    # the inputs are never outputs of a draft: a refused draft leaves the form exactly as typed
    assert not {id(c) for c in tab.outputs} & {id(tab.heading), id(tab.bullets), id(tab.figures)}
    with pytest.raises(gr.Error, match="第1条要点.*只有标点"):
        tab.validate("城市更新", "——……。!!!。", EMPTY_TABLE, "工作总结", 400)
    with pytest.raises(gr.Error, match="第2条要点.*只有标点"):
        run(tab.generate("城市更新", "老旧小区改造完成120个\n。。。！！", EMPTY_TABLE, "工作总结", 400,
                         "offline"))
    with pytest.raises(gr.Error, match="第1条要点有5000字，超过单条要点的上限600字"):
        tab.validate("城市更新", "改" * 5000, EMPTY_TABLE, "工作总结", 400)
    with pytest.raises(gr.Error, match="只有标点"):
        tab.check_editor("——……。!!!。")
    with pytest.raises(gr.Error, match="只有标点"):
        tab.recheck("——……。!!!。", None)
    assert ctx.history().count() == 0  # nothing saved, nothing 检查通过
    polish_tab = PolishTab(ctx, [("offline 离线组稿", "offline")], "offline")
    with pytest.raises(gr.Error, match="只有标点"):
        polish_tab.check_text("——……。!!!。")


def test_accept_all_leaves_flagged_suggestions_alone(ctx: AppContext) -> None:
    from drafting.polish import Suggestion

    tab = PolishTab(ctx, [("offline 离线组稿", "offline")], "offline")
    text = "我们局搞好了工作，棚户区改造完成3200套。"
    plain = Suggestion("rule", 0, 3, "我们局", "我局", "文风", id="s1")
    at = text.index("棚户区")
    flagged = Suggestion("corpus", at, at + len("棚户区改造完成3200套"), "棚户区改造完成3200套",
                         "棚户区改造完成3200套，占年度任务的【待补充】", "往年表述", id="s2")
    assert flagged.flags and not plain.flags
    state = {"text": text, "suggestions": [plain, flagged], "accepted": []}
    accepted, _cards, result, _diff, note, state = tab.accept_all(state)
    assert accepted == ["s1"] and result == "我局搞好了工作，棚户区改造完成3200套。"
    assert "不会采纳" in note and "⚑" in note
    # the writer may still tick it on purpose
    accepted, _c, result, _d, _n, _s = tab.apply(["s1", "s2"], state)
    assert accepted == ["s1", "s2"] and "【待补充】" in result
    # and nothing arrives pre-ticked
    _st, choices, *_rest = tab.suggest("我们局搞好了住房保障这块，认真落实党中央国务院决策部署。", "offline")
    assert choices["value"] == []


# ---- issue #12: restore refills the inputs; status messages say what really happened ----------
def test_when_shows_month_day_and_minutes_in_local_time() -> None:
    from datetime import UTC, datetime

    from drafting.ui.common import when

    local = datetime(2026, 11, 28, 18, 13, 22).astimezone()
    assert when(local.isoformat(timespec="seconds"), now=datetime(2026, 12, 1)) == "11月28日 18:13"
    assert when(local.isoformat(), now=datetime(2027, 1, 2)) == "2026年11月28日 18:13"
    utc = datetime(2026, 11, 28, 10, 13, 22, tzinfo=UTC)  # shown in the server's local time
    here = utc.astimezone()
    assert when(utc.isoformat(), now=datetime(2026, 12, 1)) == f"{here.month}月{here.day}日 {here:%H:%M}"
    assert when("不是时间") == "不是时间"


def test_restoring_a_version_refills_heading_bullets_and_figures(ctx: AppContext) -> None:
    draft, history = DraftTab(ctx), HistoryTab(ctx)
    history.draft = draft
    table = [["城镇新增就业", "1.5", "万人", "1.2"]]
    steps = run(draft.generate("（二）城市更新", BULLETS, table, "半年总结", 600, "offline", None, "自动"))
    chat, editor, *_r, state, _s, _f = steps[-1]
    first = state["version"]
    run(draft.refine_turn("改成一是二是三是", editor, chat, state, "offline"))
    *outputs, tabs = history.restore(first)
    chat2, editor2, *_rest = outputs[:8]
    heading, bullets, figures, doc_type, target, past = outputs[8:]
    assert len(outputs) == 8 + 6 and tabs.selected == "draft"
    assert editor2 == editor
    assert (heading, bullets, figures, doc_type, target, past) == (
        "（二）城市更新", BULLETS, table, "半年总结", 600, "自动")
    said = chat2[-1]["content"]
    original = ctx.history().get("本机用户", first)
    from drafting.ui.common import when

    assert f"已恢复版本 {first}（{when(original.created)}保存）" in said
    assert "T" not in said and "+00:00" not in said and "月" in said and "日 " in said
    assert f"已恢复版本 {first}" in outputs[6]


def test_restoring_a_pasted_text_clears_the_inputs(ctx: AppContext) -> None:
    draft, history = DraftTab(ctx), HistoryTab(ctx)
    history.draft = draft
    draft.recheck("全市棚户区改造完成3300套。", None)
    vid = ctx.history().versions("本机用户")[0].id
    *outputs, _tabs = history.restore(vid)
    assert outputs[8:] == ["", "", [["", "", "", ""]], "工作总结", 400, ""]


def test_recheck_after_leaving_the_editor_says_the_edit_was_saved_not_unchanged(ctx: AppContext) -> None:
    tab = DraftTab(ctx)
    _c, editor, *_r, state, _s, _f = draft_once(tab)
    drafted = state["version"]
    # 重新检查 on the draft as generated: nothing to save, and it says which version was checked
    *_p, state1, status1 = tab.recheck(editor, state)
    assert f"稿件与版本 {drafted} 相同" in status1 and "已重新检查" in status1
    edited = editor + "\n全年新增口袋公园99个。"
    state2, _saving = tab.save_edit(edited, state1)  # leaving the editor saves the edit ...
    *_p, state3, status3 = tab.render_if_unchecked(edited, state2)  # ... and checks it
    saved = state3["version"]
    assert saved != drafted and f"修改已自动保存为版本 {saved}" in status3
    *_p, _state4, status4 = tab.recheck(edited, state3)  # then the writer clicks 重新检查
    assert "未改动" not in status4
    assert f"你的修改已自动保存为版本 {saved}" in status4 and "已重新检查" in status4
    assert ctx.history().count("本机用户") == 2


def test_compressing_says_what_was_deleted_and_only_then(ctx: AppContext) -> None:
    tab = DraftTab(ctx)
    chat, editor, *_r, state, _s, _f = draft_once(tab)
    roomy = run(tab.refine_turn(f"压缩到{len(editor) + 100}字", editor, chat, state, "offline"))[-1]
    said = roomy[0][-1]["content"]
    assert "已删去" not in said and "没有删去任何句子" in said
    assert roomy[1] == editor
    tight = run(tab.refine_turn("压缩到20字", editor, chat, state, "offline"))[-1]
    said = tight[0][-1]["content"]
    kept = tight[1]
    from drafting.offline import split_sentences

    dropped = len(split_sentences(editor.split("\n", 1)[1])) - len(split_sentences(kept.split("\n", 1)[1]))
    assert dropped > 0 and f"已删去{dropped}句不含数字的句子" in said


def test_export_never_takes_an_interrupted_or_heading_only_version(ctx: AppContext) -> None:
    """A section whose newest version is an interrupted stream exports its last good version; a section
    that has only its heading is left out, and the message says so in Chinese."""
    from docx import Document

    draft, history_tab = DraftTab(ctx), HistoryTab(ctx)
    history_tab.draft = draft
    _c, _editor, *_r, state, _s, _f = draft_once(draft)
    store = ctx.history()
    good = store.versions("本机用户", limit=1, session=state["session"])[0]
    store.save("本机用户", session=state["session"], kind="partial", heading=good.heading,
               text=good.heading + "\n住房保障工作扎实开", inputs=good.inputs)
    store.save("本机用户", session="only-heading", kind="draft", heading="（二）城市更新",
               text="（二）城市更新", inputs={"heading": "（二）城市更新"})
    path, message, _force, _pending = history_tab.export_docx(
        [state["session"], "only-heading"], "市住建局2024年工作总结", "", "", "", None)
    body = "\n".join(p.text for p in Document(path).paragraphs)
    assert good.text.split("\n")[-1] in body and "扎实开\n" not in body + "\n"
    assert "已导出 1 节" in message and "未导出“（二）城市更新”" in message
    with pytest.raises(gr.Error, match="只有中断的稿件、只有标题"):
        history_tab.export_docx(["only-heading"], "", "", "", "", None)
