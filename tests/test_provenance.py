"""Provenance, no laundering: a draft's facts come from the writer's bullets, figure table and
heading, the writer's own edits (diffed against the last engine output) and the writer's explicit
confirmations — and from nothing else.  One test per laundering path found in the issue
(refine, polish, garbage input, export, restore), plus the history migration and the terms."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from docx import Document

from drafting.cli import main
from drafting.drafter import DraftRequest, FigureRow, check, draft, refine
from drafting.errors import ExportNeedsConfirmation, InputError
from drafting.export import Section, to_docx, write_markdown
from drafting.guard import Source
from drafting.history import History
from drafting.offline import OfflineEngine
from drafting.polish import corpus_phrasing, keeps_figures, polish, safe_ids
from drafting.provenance import (
    CONFIRMED,
    EDIT,
    confirmation_sources,
    edit_sources,
    session_sources,
)
from drafting.records import Chunk, Hit
from drafting.terms import check_terms

BULLETS = ["老旧小区改造完成120个，惠及居民3.2万户", "新增公共停车泊位1.2万个"]
REQ = DraftRequest(heading="（三）城市更新", bullets=BULLETS)
# an engine's draft that carries two figures nobody gave
ENGINE_DRAFT = ("（三）城市更新\n全市老旧小区改造完成120个，惠及居民3.2万户，新增公共停车泊位1.2万个。"
                "棚户区改造完成3300套，完成投资5.6亿元。")


def unverified(report: Any) -> list[str]:
    return [f.raw for f in report.unverified]


# ---- sources ------------------------------------------------------------------------------
def test_request_sources_are_labelled_heading_bullet_n_and_table_row_n() -> None:
    req = DraftRequest("（三）城市更新", ["改造120个", "泊位1.2万个"],
                       [FigureRow("新开工保障房", "1500", "套", "1200")])
    assert req.sources() == [
        Source("标题", "（三）城市更新"),
        Source("要点1", "改造120个"),
        Source("要点2", "泊位1.2万个"),
        Source("数字表第1行", "新开工保障房1500套，上年1200套"),
    ]
    assert req.provided_text() == "改造120个\n泊位1.2万个\n新开工保障房1500套，上年1200套"
    guard, _terms = check("改造120个，泊位1.2万个，新开工保障房1500套。", req.sources(), req.pairs())
    assert {f.raw: f.source for f in guard.provided} == {"120个": "要点1", "1.2万个": "要点2",
                                                         "1500套": "数字表第1行",
                                                          "1200套": "数字表第1行"}


def test_an_edit_is_the_figures_the_writer_typed_not_what_the_engine_wrote() -> None:
    engine = "全市完成棚户区改造3200套，投资5.6亿元。"
    assert edit_sources(engine, engine) == []
    assert (edit_sources(engine, engine.replace("3200套", "3300套"))
        == [Source(EDIT, "全市完成棚户区改造3300套")])
    assert edit_sources(engine, engine + "全年新增口袋公园99个。") == [Source(EDIT, "全年新增口袋公园99个")]
    # moving or retyping the engine's own figures vouches for nothing
    assert edit_sources(engine, "投资5.6亿元。全市完成棚户区改造3200套。") == []
    assert edit_sources(engine, "全市完成棚户区改造3200套，投资5.6亿元，投资5.6亿元。") == []


def test_session_edits_are_diffed_against_the_last_engine_output_and_accumulate() -> None:
    def v(i: int, kind: str, text: str) -> SimpleNamespace:
        return SimpleNamespace(id=i, kind=kind, text=text)

    versions = [
        v(1, "draft", "完成改造120个。"),
        v(2, "edit", "完成改造120个，新增口袋公园99个。"),  # typed: 99个
        v(3, "refine", "完成改造120个，新增口袋公园99个，棚户区改造3300套。"),  # the engine's: 3300套
        v(4, "edit", "完成改造120个，新增口袋公园99个，棚户区改造3300套。绿道12公里。"),  # typed: 12公里
    ]
    got = session_sources(reversed(versions))
    assert [s.text for s in got] == ["新增口袋公园99个", "绿道12公里"]
    assert all(s.label == EDIT for s in got)
    # a session that starts from pasted text checks that text; it does not vouch for it
    pasted = [v(1, "edit", "棚户区改造3300套。"), v(2, "edit", "棚户区改造3300套，绿道12公里。")]
    assert [s.text for s in session_sources(pasted)] == ["绿道12公里"]
    assert ([s.text for s in session_sources(pasted[:1], pending="棚户区改造3300套，新建公园8个。")]
        == ["新建公园8个"])


def test_edits_and_confirmations_allow_a_figure_but_never_require_it() -> None:
    extra = [Source(EDIT, "新增口袋公园99个"), Source(CONFIRMED, "棚户区改造3300套")]
    guard, _t = check("老旧小区改造完成120个，惠及居民3.2万户，新增公共停车泊位1.2万个。",
                      [*REQ.sources(), *extra])
    assert guard.status == "ok" and guard.missing == []
    guard, _t = check(ENGINE_DRAFT + "新增口袋公园99个。", [*REQ.sources(), *extra])
    assert unverified(guard) == ["5.6亿元"]
    assert {f.raw: f.source for f in guard.provided}["3300套"] == CONFIRMED
    assert {f.raw: f.source for f in guard.provided}["99个"] == EDIT


# ---- laundering path 1: refinement ----------------------------------------------------------
def test_a_refine_turn_that_changes_nothing_leaves_flagged_figures_flagged(settings: Any) -> None:
    before, _t = check(ENGINE_DRAFT, REQ.sources())
    assert sorted(unverified(before)) == ["3300套", "5.6亿元"]
    result = refine(ENGINE_DRAFT, "压缩到150字", REQ, settings, engine=OfflineEngine())
    assert result.text == ENGINE_DRAFT  # nothing to cut: the turn changed no text
    assert sorted(unverified(result.figures)) == ["3300套", "5.6亿元"]
    assert result.status == "needs_review"
    reasons = "；".join(result.reasons())
    assert "3300套" in reasons and "5.6亿元" in reasons


def test_a_refine_turn_keeps_what_the_writer_typed_or_confirmed(settings: Any) -> None:
    extra = [*edit_sources(ENGINE_DRAFT.replace("棚户区改造完成3300套，", ""), ENGINE_DRAFT),
             Source(CONFIRMED, "完成投资5.6亿元")]
    result = refine(ENGINE_DRAFT, "压缩到150字", REQ, settings, engine=OfflineEngine(), extra_sources=extra)
    assert unverified(result.figures) == [] and result.status == "ok"
    assert {f.raw: f.source for f in result.figures.provided}["3300套"] == EDIT


# ---- laundering path 3: garbage input -------------------------------------------------------
@pytest.mark.parametrize("bullets", [["——……。!!!。"], ["老旧小区改造完成120个", "。。。？！"],
                                     ["、、、", "……"]])
def test_punctuation_only_bullets_are_refused_in_chinese(settings: Any, bullets: list[str]) -> None:
    req = DraftRequest(heading="城市更新", bullets=bullets)
    with pytest.raises(InputError) as err:
        draft(req, settings, engine=OfflineEngine())
    assert "只有标点" in err.value.help_message and "要点" in err.value.help_message
    assert "还在输入框里" in err.value.help_message


def test_a_bullet_far_beyond_a_section_is_refused(settings: Any) -> None:
    long = "扎实推进城市更新工作，" * 500  # 5,500 characters in one bullet
    with pytest.raises(InputError) as err:
        draft(DraftRequest(heading="城市更新", bullets=[long]), settings, engine=OfflineEngine())
    assert (str(len(long)) in err.value.help_message
            and str(settings.max_bullet_chars) in err.value.help_message)
    assert "拆成" in err.value.help_message
    tighter = settings.model_copy(update={"max_bullet_chars": 10})
    with pytest.raises(InputError, match="上限10字"):
        DraftRequest(heading="城市更新", bullets=["老旧小区改造完成120个个"]).validate(tighter)


def test_figures_alone_are_content(settings: Any) -> None:
    result = draft(DraftRequest(heading="城市更新", bullets=["120个", "3.2万户"]), settings,
                   engine=OfflineEngine())
    assert "120个" in result.text


def test_punctuation_only_text_is_refused_by_polish_and_check(settings: Any, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError, match="只有标点"):
        polish("——……。!!!。", settings, engine=OfflineEngine())
    with pytest.raises(InputError, match="只有标点"):
        refine("——……。!!!。", "压缩到100字", REQ, settings, engine=OfflineEngine())
    path = tmp_path / "稿件.txt"
    path.write_text("——……。!!!。", encoding="utf-8")
    assert main(["check", str(path)]) == 2
    assert "只有标点" in capsys.readouterr().err


# ---- laundering path 2: polish ----------------------------------------------------------------
def _hit(text: str) -> Hit:
    return Hit(Chunk("d1-0", "d1", text, ["一、工作开展情况"], 0, 1, title="往年总结", year=2022), 1.0)


def test_polish_never_offers_a_rewrite_that_deletes_the_writers_figure() -> None:
    original = "棚户区改造完成3200套，比去年多了不少"
    past = "加快棚户区改造步伐，年内完成*套、*户棚户区改造。"
    assert corpus_phrasing(original, [_hit(past)]) is None
    assert not keeps_figures(original, "加快棚户区改造步伐，年内完成【待补充】、【待补充】棚户区改造")
    assert not keeps_figures("完成3200套", "完成3300套")
    assert keeps_figures("完成3200套", "年内完成棚户区改造3200套")


def test_flagged_suggestions_are_left_out_of_accept_all() -> None:
    from drafting.polish import Suggestion

    plain = Suggestion("rule", 0, 2, "搞好", "做好", "文风", id="s1")
    gap = Suggestion("corpus", 3, 9, "完成120个", f"完成120个，占{'【待补充】'}", "往年表述", id="s2")
    term = Suggestion("llm", 10, 12, "认真", "认真学习习总书记讲话", "改写", id="s3",
                      terms=check_terms("认真学习习总书记讲话"))
    assert gap.flags and term.flags and not plain.flags
    assert safe_ids([plain, gap, term]) == ["s1"]


# ---- laundering path 4: export ----------------------------------------------------------------
def test_export_of_a_section_that_needs_review_asks_first(tmp_path: Path) -> None:
    guard_problems = ["无出处的数字：3300套、5.6亿元"]
    sections = [Section("（三）城市更新", ENGINE_DRAFT, guard_problems)]
    for write, name in ((to_docx, "a.docx"), (write_markdown, "a.md")):
        with pytest.raises(ExportNeedsConfirmation) as err:
            write("城市更新", sections, tmp_path / name)
        assert err.value.problems == guard_problems
        assert "3300套" in err.value.help_message and "仍然导出" in err.value.help_message
        assert not (tmp_path / name).exists()
        assert write("城市更新", sections, tmp_path / name, confirm=True).is_file()


def test_the_docx_carries_no_hidden_marks(tmp_path: Path) -> None:
    problems = ["无出处的数字：3300套"]
    path = to_docx("城市更新", [Section("（三）城市更新", ENGINE_DRAFT, problems)], tmp_path / "a.docx",
                   issuer="市住房和城乡建设局", date="2024年7月10日", confirm=True)
    doc = Document(str(path))
    assert "棚户区改造完成3300套" in "\n".join(p.text for p in doc.paragraphs)
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        xml = "\n".join(z.read(n).decode("utf-8") for n in names if n.endswith((".xml", ".rels")))
        content = "\n".join(z.read(n).decode("utf-8") for n in names
                            if n == "word/document.xml" or n.startswith(("word/footer", "word/header")))
    assert not [n for n in names if "comments" in n or n.startswith("customXml") or n.endswith("custom.xml")]
    assert "customXml" not in xml and "comments" not in xml  # no relationship to such a part either
    for mark in ("w:highlight", "w:vanish", "w:webHidden", "w:specVanish", "w:shd", "w:comment", "w:ins ",
                 "w:del ", "w:color", "w:customXml", "w:sdt", "<w:u ", "w:bookmarkStart"):
        assert mark not in content, mark
    for data in ("无出处", "needs_review", "需要复核", "你的确认", "你的修改", "要点", "m-bad", "⚑"):
        assert data not in xml, data
    props = doc.core_properties
    assert not any(x in (props.comments or "") + (props.keywords or "") + (props.subject or "")
                   for x in ("无出处", "复核", "needs_review"))


# ---- history: confirmations and the migration -------------------------------------------------
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    user      TEXT NOT NULL CHECK (user <> ''),
    session   TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('draft', 'refine', 'edit', 'partial', 'restore')),
    heading   TEXT NOT NULL,
    text      TEXT NOT NULL,
    engine    TEXT NOT NULL,
    inputs    TEXT NOT NULL CHECK (json_valid(inputs)),
    citations TEXT NOT NULL CHECK (json_valid(citations)),
    checks    TEXT NOT NULL CHECK (json_valid(checks)),
    parent    INTEGER REFERENCES versions(id),
    created   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS versions_user ON versions (user, id);
CREATE INDEX IF NOT EXISTS versions_user_session ON versions (user, session, id);
"""


def test_a_history_file_of_the_previous_schema_opens_with_every_row_kept(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(OLD_SCHEMA)
    conn.execute("INSERT INTO versions (user, session, kind, heading, text, engine, inputs, citations, "
                 "checks, parent,"
                 " created) VALUES ('本机用户', 's1', 'draft', '城市更新', ?, 'offline', ?, '[]', "
                 "'{\"status\": \"ok\"}',"
                 " NULL, '2026-01-01T09:00:00+08:00')", (ENGINE_DRAFT, '{"heading": "城市更新"}'))
    conn.commit()
    conn.close()

    hist = History(path)
    (old,) = hist.versions("本机用户")
    assert ((old.id, old.text, old.inputs, old.checks)
        == (1, ENGINE_DRAFT, {"heading": "城市更新"}, {"status": "ok"}))
    assert hist.confirmations("本机用户", "s1") == []
    cid = hist.confirm("本机用户", session="s1", figure="3300套", context="棚户区改造完成3300套",
                       version=old.id)
    again = History(path)  # opening twice is harmless
    (c,) = again.confirmations("本机用户", "s1")
    assert (c.id, c.figure, c.context, c.version) == (cid, "3300套", "棚户区改造完成3300套", 1)
    assert again.confirmations("别人", "s1") == [] and again.confirmations("本机用户", "s2") == []
    assert confirmation_sources([c]) == [Source(CONFIRMED, "棚户区改造完成3300套")]
    with sqlite3.connect(path) as raw:
        # the documents table came with it (schema 3)
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 3
    with pytest.raises(ValueError):
        again.confirm("别人", session="s1", figure="3300套", version=old.id)  # not their version


# ---- terms ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "found", "severity"),
    [
        ("认真落实党中央国务院决策部署。", "党中央国务院", "提示"),
        ("深入学习习近平新时代中国特色思想。", "习近平新时代中国特色思想", "必错"),
        ("认真贯彻习总书记重要指示精神。", "习总书记", "必错"),
        ("紧密团结在以习近平为核心的党中央周围。", "以习近平为核心的党中央", "必错"),
    ],
)
def test_term_severities(text: str, found: str, severity: str) -> None:
    (f,) = check_terms(text)
    assert (f.found, f.severity) == (found, severity)


def test_dangzhongyang_guowuyuan_alone_does_not_make_a_draft_need_review(settings: Any) -> None:
    result = refine("认真落实党中央国务院决策部署，老旧小区改造完成120个。", "压缩到100字",
                    DraftRequest("城市更新", ["老旧小区改造完成120个"]), settings, engine=OfflineEngine())
    assert result.status == "ok"
    assert [t.severity for t in result.terms] == ["提示"]
