"""The 文稿 tab's handlers called directly (no browser): start, outline edits, drafting a node,
reopening a document with its sections' inputs, per-user documents, export with confirmation."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import docx
import gradio as gr
import pytest

from drafting.ingest import ingest
from drafting.settings import get_settings
from drafting.ui.common import AppContext
from drafting.ui.document_tab import DocumentTab
from drafting.ui.draft_tab import DraftTab
from tests.conftest import SEEDS

EMPTY = [["", "", "", ""]]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("doctab")
    shutil.copytree(SEEDS, root / "corpus")
    settings = get_settings(store=root / "store", data_dir=root / "data", engine="offline")
    ingest([root / "corpus"], settings)
    return settings


@pytest.fixture
def tab(seeded: Any, tmp_path: Path) -> DocumentTab:
    ctx = AppContext.create(seeded.model_copy(update={"data_dir": tmp_path / "data"}))
    t = DocumentTab(ctx)
    t.draft = DraftTab(ctx)
    return t


def _choices(update: dict[str, Any]) -> dict[str, str]:
    return {label: value for label, value in update["choices"]}


def test_start_edit_draft_reopen_and_export(tab: DocumentTab, tmp_path: Path) -> None:
    doc_id, rows, node, view, notes, docs = tab.start("工作汇报", "市住建局2024年精神文明建设工作汇报",
                                                      "市住房和城乡建设局", "2024年12月20日")
    assert "依据语料库中2篇往年材料" in notes and docs["value"] == doc_id
    assert "《市住建局关于机关青年干部主题教育开展情况的汇报》的一级标题：一、以学促干，基础在学习" in notes
    assert [r[0] for r in rows] == ["一、持续深入实施精神文明培育", "二、深化物业管理共建美好家园",
                                    "三、严格行业标准规范文明行为", "四、下一步工作思路"]
    assert all(r[2] == "未起草" for r in rows) and "市住建局2024年精神文明建设工作汇报" in view
    nodes = _choices(node)
    # edits: rename 三、, move 四、 up, add a （一） under 一、
    _id, rows, node, *_ = tab.rename(doc_id, nodes["三、严格行业标准规范文明行为"], "规范行业文明行为")
    _id, rows, node, *_ = tab.move_up(doc_id, nodes["四、下一步工作思路"])
    assert [r[0] for r in rows][2:] == ["三、下一步工作思路", "四、规范行业文明行为"]
    _id, rows, node, _v, _n, cleared = tab.add(doc_id, nodes["一、持续深入实施精神文明培育"], 2,
                                               "文明单位创建")
    assert rows[1][0] == "　　（一）文明单位创建" and cleared == ""
    nodes = _choices(node)
    target = nodes["（一）文明单位创建"]
    assert node["value"] == target  # the new node is selected
    out = tab.draft_node(doc_id, target, "新创建市级文明单位12个\n开展志愿服务活动80场", EMPTY, "offline")
    rows, view, heading, status = out[1], out[3], out[5], out[6]
    assert rows[1][2] == "已检查" and "12个" in view and "已检查" in heading and "字" in status

    # reopen: the outline and the section's inputs come back
    opened = tab.open(doc_id)
    assert opened[5:] == ("工作汇报", "市住建局2024年精神文明建设工作汇报", "市住房和城乡建设局",
                          "2024年12月20日")
    heading, bullets, figures, status = tab.pick(doc_id, target)
    assert ("（一）文明单位创建" in heading and "取自" not in heading
        and bullets == "新创建市级文明单位12个\n开展志愿服务活动80场")
    assert figures == EMPTY

    # export: the undrafted parts are listed and nothing is written until 仍然导出
    file, message, force = tab.export(doc_id)
    assert file["visible"] is False and force["visible"] is True
    assert "二、深化物业管理共建美好家园：未起草" in message and "尚未导出" in message
    file, message, force = tab.export_anyway(doc_id)
    assert "已按提纲顺序导出" in message and force["visible"] is False
    paras = [p.text for p in docx.Document(file["value"]).paragraphs if p.text]
    assert paras[:3] == ["市住建局2024年精神文明建设工作汇报", "一、持续深入实施精神文明培育",
                         "（一）文明单位创建"]
    assert paras.index("三、下一步工作思路") < paras.index("四、规范行业文明行为")


def test_documents_are_per_user_and_errors_are_chinese(tab: DocumentTab) -> None:
    alice, bob = SimpleNamespace(username="alice"), SimpleNamespace(username="bob")
    tab.ctx.users = {}  # accounts on: the handlers take the user from the request
    doc_id = tab.start("工作总结", "2024年工作总结", "", "", alice)[0]
    assert [v for _l, v in tab.list_documents(alice)["choices"]] == [doc_id]
    assert tab.list_documents(bob)["choices"] == []
    with pytest.raises(gr.Error, match="找不到这篇文稿"):
        tab.open(doc_id, bob)
    with pytest.raises(gr.Error, match="请先填写文稿标题"):
        tab.start("工作总结", "  ", "", "", alice)
    with pytest.raises(gr.Error, match="请先在“提纲中的一项”里选中一项"):
        tab.remove(doc_id, None, alice)
    with pytest.raises(gr.Error, match="提纲里没有这一项"):  # a section of another document or user
        tab.draft_node(doc_id, "doc-notinthisdocument", "要点", EMPTY, "offline", alice)
    with pytest.raises(gr.Error, match="提纲里没有这一项"):
        tab.continue_in_draft(doc_id, "someone-elses-session", alice)
    with pytest.raises(gr.Error, match="还没有起草"):
        node = _choices(tab.refresh(doc_id, None, alice)[2])
        tab.continue_in_draft(doc_id, next(iter(node.values())), alice)


def test_continue_in_draft_opens_the_nodes_version_in_its_session(tab: DocumentTab) -> None:
    doc_id, _rows, node, *_ = tab.start("工作总结", "2024年工作总结", "", "")
    target = _choices(node)["（一）贯穿“全面从严”，党的建设全面加强"]
    tab.draft_node(doc_id, target, "开展中心组学习12次", EMPTY, "offline")
    out = tab.continue_in_draft(doc_id, target)
    state, tabs = out[5], out[-1]
    assert state["session"] == target and "12次" in state["text"]
    assert tabs.selected == "draft"
