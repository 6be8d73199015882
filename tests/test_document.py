"""The document model: outline editing, numbering by position, history (incl. an old file's upgrade),
section status, totals and the whole-document export (real SQLite, real drafter, real docx)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.oxml.ns import qn

from drafting.document import Document, Node, accepted_version, body_of, document_view, export_sections
from drafting.drafter import DraftRequest, draft, request_json
from drafting.errors import ExportNeedsConfirmation, InputError
from drafting.export import to_docx
from drafting.history import _SCHEMA, History
from drafting.outline import Outline, OutlineNode
from drafting.settings import get_settings

USER = "张三"


def _doc() -> Document:
    outline = Outline("工作总结", "市住建局2024年工作总结", [
        OutlineNode(1, "工作开展情况", children=[OutlineNode(2, "住房保障"), OutlineNode(2, "城市更新")]),
        OutlineNode(1, "存在问题"),
        OutlineNode(1, "下一步工作计划"),
    ], [], [])
    return Document.from_outline(outline, issuer="市住房和城乡建设局", date="2024年12月20日")


def _headings(doc: Document) -> list[str]:
    return [h for _n, h in doc.numbered()]


def test_numbering_comes_from_position_and_follows_edits() -> None:
    doc = _doc()
    assert _headings(doc) == ["一、工作开展情况", "（一）住房保障", "（二）城市更新", "二、存在问题",
                              "三、下一步工作计划"]
    first, housing, renewal, problems, plan = doc.nodes
    doc.move(renewal.session, -1)  # （二） up: it becomes （一）
    assert _headings(doc)[1:3] == ["（一）城市更新", "（二）住房保障"]
    doc.move(plan.session, -1)  # a level-1 block moves past 存在问题
    assert _headings(doc)[3:] == ["二、下一步工作计划", "三、存在问题"]
    doc.move(first.session, +1)  # a level-1 node moves with its children
    assert _headings(doc) == ["一、下一步工作计划", "二、工作开展情况", "（一）城市更新", "（二）住房保障",
                              "三、存在问题"]
    added = doc.add(2, "（五）物业管理", after=housing.session)  # a typed number is dropped
    assert added.text == "物业管理" and _headings(doc)[4] == "（三）物业管理"
    doc.add(1, "保障措施", after=first.session)  # after 二、 and its children
    assert _headings(doc)[5] == "三、保障措施" and _headings(doc)[-1] == "四、存在问题"
    doc.add(1, "组织保障", after=added.session)  # a level-1 node after a level-2 one: after its whole part
    assert _headings(doc)[2:7] == ["（一）城市更新", "（二）住房保障", "（三）物业管理", "三、组织保障",
                                   "四、保障措施"]
    doc.remove(doc.nodes[5].session)
    doc.rename(problems.session, "存在的问题和不足")
    doc.remove(first.session)  # with its children
    assert _headings(doc) == ["一、下一步工作计划", "二、保障措施", "三、存在的问题和不足"]


def test_outline_edits_are_refused_in_chinese() -> None:
    doc = _doc()
    _first, housing, _renewal, problems, plan = doc.nodes
    with pytest.raises(InputError, match="已是本部分的第一项"):
        doc.move(housing.session, -1)
    with pytest.raises(InputError, match="最后个一级标题|最后"):
        doc.move(plan.session, +1)
    with pytest.raises(InputError, match="空的"):
        doc.rename(problems.session, "（二）  ")
    with pytest.raises(InputError, match="两级"):
        doc.add(3, "细项")
    with pytest.raises(InputError, match="没有这一项"):
        doc.rename("doc-gone", "x")


def test_history_keeps_documents_per_user(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    doc = _doc()
    doc_id = doc.save(history, USER)
    doc.move(doc.nodes[2].session, -1)
    doc.title = "市住建局2024年度工作总结"
    assert doc.save(history, USER) == doc_id  # rewritten, not a second row
    again = Document.load(history, USER, doc_id)
    assert again.title == "市住建局2024年度工作总结" and again.issuer == "市住房和城乡建设局"
    assert [n.to_json() for n in again.nodes] == [n.to_json() for n in doc.nodes]
    assert history.documents(USER)[0][:3] == (doc_id, "市住建局2024年度工作总结", "工作总结")
    assert history.get_document("李四", doc_id) is None and history.documents("李四") == []
    with pytest.raises(InputError, match="找不到这篇文稿"):
        Document.load(history, "李四", doc_id)
    with pytest.raises(KeyError):
        history.save_document("李四", doc_type="工作总结", title="x", issuer="", date="", outline=[],
                              doc_id=doc_id)


def test_an_old_history_file_is_upgraded_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old_schema = _SCHEMA.split("CREATE TABLE IF NOT EXISTS documents")[0] + "PRAGMA user_version = 2;"
    conn = sqlite3.connect(path)
    conn.executescript(old_schema)
    conn.execute("INSERT INTO versions (user, session, kind, heading, text, engine, inputs, citations, "
                 "checks, parent,"
                 " created) VALUES (?, 's1', 'draft', '（一）住房保障', '新开工1200套。', 'offline', '{}', "
                 "'[]', '{}',"
                 " NULL, '2026-01-01T00:00:00+08:00')", (USER,))
    conn.commit()
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'documents'").fetchone() is None
    conn.close()
    history = History(path)
    assert [v.text for v in history.versions(USER)] == ["新开工1200套。"]
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == 3
    doc_id = _doc().save(history, USER)
    assert Document.load(history, USER, doc_id).nodes[0].text == "工作开展情况"


def _save(history: History, node: Node, text: str, bullets: list[str], kind: str = "draft",
          checks: dict[str, Any] | None = None, **inputs: Any) -> int:
    req = request_json(DraftRequest(heading=node.text, bullets=bullets))
    return history.save(USER, session=node.session, kind=kind, heading=node.text, text=text, engine="offline",
                        inputs={**req, **inputs}, checks={"status": "ok"} if checks is None else checks)


def test_status_totals_and_the_accepted_version(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    doc = _doc()
    _first, housing, renewal, problems, _plan = doc.nodes
    _save(history, housing, "（一）住房保障\n新开工保障性住房1200套。", ["新开工保障性住房1200套"])
    # a later failed stream and a junk (punctuation only) version never count
    _save(history, housing, "新开工保障性住房9999套，", ["新开工保障性住房1200套"], kind="partial")
    _save(history, housing, "。。。……", ["新开工保障性住房1200套"], kind="edit", checks={})
    # a heading alone
    _save(history, housing, "（一）住房保障\n", ["新开工保障性住房1200套"], kind="edit", checks={})
    _save(history, renewal, "完成老旧小区改造130个。", ["完成老旧小区改造120个"])  # 130 has no source
    # saved, not rechecked
    _save(history, problems, "推进还有差距。", ["推进还有差距"], kind="edit", checks={})
    view = document_view(history, USER, doc)
    status = {s.node.text: s.status for s in view.states}
    assert status == {"工作开展情况": "未起草", "住房保障": "已检查", "城市更新": "需复核",
                      "存在问题": "已起草",
                      "下一步工作计划": "未起草"}
    assert accepted_version(history, USER, housing.session).text.endswith("1200套。")
    housing_state = view.states[1]
    # its own heading line is the document's to number
    assert housing_state.text == "新开工保障性住房1200套。"
    assert (view.words == len("新开工保障性住房1200套。") + len("完成老旧小区改造130个。")
        + len("推进还有差距。"))
    assert view.figure_problems >= 1 and any("130" in p for p in view.states[2].figure_problems)
    assert view.term_problems == 0
    assert view.counts() == {"未起草": 2, "已起草": 1, "需复核": 1, "已检查": 1}
    unfinished = view.unfinished()
    # 一、 has children: a bare heading is fine; 三、 is a leaf and is listed
    assert ("三、下一步工作计划：未起草" in unfinished
        and not any(u.startswith("一、工作开展情况") for u in unfinished))
    assert any(u.startswith("（二）城市更新：") and "130" in u for u in unfinished)


def test_a_confirmed_figure_is_no_longer_a_problem(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    doc = _doc()
    renewal = doc.nodes[2]
    vid = _save(history, renewal, "完成老旧小区改造130个。", ["完成老旧小区改造120个"])
    before = document_view(history, USER, doc).states[2]
    assert before.status == "需复核" and any("130个" in p for p in before.figure_problems)
    history.confirm(USER, session=renewal.session, figure="130个", context="完成老旧小区改造130个",
                    version=vid)
    # 120 is still missing from the text, so the section stays 需复核 — but not for 130
    problems = document_view(history, USER, doc).states[2].figure_problems
    assert problems == ["漏写数字：120个"]


def test_body_of_drops_only_the_sections_own_heading() -> None:
    assert body_of("（二）城市更新\n完成改造。", 2) == "完成改造。"
    assert (body_of("（二）城市更新。完成改造120个，惠及居民。", 2)
        == "（二）城市更新。完成改造120个，惠及居民。")
    assert body_of("1.加强监管\n正文。", 2) == "1.加强监管\n正文。"


def test_export_follows_the_outline_not_creation_time(tmp_path: Path) -> None:
    settings = get_settings(store=tmp_path / "store", data_dir=tmp_path / "data")
    history = History.for_settings(settings)
    doc = _doc()
    doc.save(history, USER)
    _first, housing, renewal, problems, plan = doc.nodes
    # （二） drafted before （一）, by the real offline drafter, each with its numbered heading
    for node, bullets in ((renewal, ["完成老旧小区改造120个，惠及居民3200户"]),
                          (housing, ["新开工保障性住房1200套"])):
        req = DraftRequest(heading=doc.heading_of(node.session), bullets=bullets)
        result = draft(req, settings)
        history.save(USER, session=node.session, kind="draft", heading=req.heading, text=result.text,
                     engine=result.engine, inputs=request_json(req), checks={"status": result.status})
    for node in (problems, plan):
        _save(history, node, f"{node.text}的正文。", [f"{node.text}的正文"])
    view = document_view(history, USER, doc)
    sections = export_sections(view)
    assert [s.heading for s in sections] == _headings(doc)
    path = to_docx(doc.title, sections, tmp_path / "doc.docx", issuer=doc.issuer, date=doc.date)
    paras = [p.text for p in docx.Document(str(path)).paragraphs if p.text]
    assert paras[:5] == ["市住建局2024年工作总结", "一、工作开展情况", "（一）住房保障",
                         "新开工保障性住房1200套。", "（二）城市更新"]
    assert paras[-2:] == ["市住房和城乡建设局", "2024年12月20日"]
    # reorder: 城市更新 becomes （一）; its draft's own "（二）城市更新" line is not printed
    doc.move(renewal.session, -1)
    sections = export_sections(document_view(history, USER, doc))
    path = to_docx(doc.title, sections, tmp_path / "doc2.docx", issuer=doc.issuer, date=doc.date)
    paras = [p.text for p in docx.Document(str(path)).paragraphs if p.text]
    assert paras[2] == "（一）城市更新" and "（二）城市更新" not in paras and paras[4] == "（二）住房保障"
    date = docx.Document(str(path)).paragraphs[-1]
    assert date._p.pPr.find(qn("w:ind")).get(qn("w:right")) == "1280"


def test_export_asks_before_writing_while_sections_are_unfinished(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    doc = _doc()
    _save(history, doc.nodes[1], "新开工保障性住房1300套。", ["新开工保障性住房1200套"])
    sections = export_sections(document_view(history, USER, doc))
    target = tmp_path / "out.docx"
    with pytest.raises(ExportNeedsConfirmation) as exc:
        to_docx(doc.title, sections, target, issuer=doc.issuer, date=doc.date)
    listed = exc.value.problems
    assert not target.exists()
    assert any(p.startswith("（一）住房保障：") and "1300" in p for p in listed)
    assert {"（二）城市更新：未起草", "二、存在问题：未起草", "三、下一步工作计划：未起草"} <= set(listed)
    assert to_docx(doc.title, sections, target, confirm=True) == target


def test_patterns_follow_the_current_wording_and_sources_go_with_a_rename() -> None:
    outline = Outline("工作汇报", "汇报", [OutlineNode(1, "以学促干，基础在学习", source="往年汇报"),
                                          OutlineNode(1, "以学促干，破题在调研", source="往年汇报")], [], [])
    doc = Document.from_outline(outline)
    first, second = doc.nodes
    assert first.source == "往年汇报"
    assert "对仗（同以“以学促干”起句）" in doc.patterns()[second.session]
    doc.rename(second.session, "加强调查研究")  # breaks the 对仗
    assert "对仗" not in doc.patterns()[first.session] and second.source == ""
    assert first.source == "往年汇报"
