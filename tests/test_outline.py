"""Outline mining from the real seed corpus (ingested into a real Chroma store)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drafting.cli import main
from drafting.errors import InputError
from drafting.outline import heading_pattern, number, propose, role_of
from drafting.settings import get_settings
from drafting.store import CorpusStore
from tests.conftest import ingested_seeds


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return ingested_seeds(tmp_path_factory, "outline")


def test_summary_outline_follows_the_bureaus_summaries(seeded: Any) -> None:
    outline = propose(CorpusStore(seeded), seeded, "工作总结", "市住建局2024年工作总结")
    # 下半年 → 下一步
    assert [n.text for n in outline.nodes] == ["工作开展情况", "存在问题", "下一步工作计划"]
    problems = outline.nodes[1].children
    # （三） sits inside a merged chunk's text, not in any heading path: it is found all the same
    assert [c.text for c in problems] == ["党建成效还不够明显", "重点工作推进还有差距",
                                          "遗留问题化解任重道远", "安全生产管理还有弱项"]
    assert sorted(outline.basis) == ["市住建局2023年上半年工作总结", "某市住建局2022年文明创建工作总结"]
    assert all(n.source == "市住建局2023年上半年工作总结" for n in outline.flat())
    assert "2篇往年材料" in outline.notes[0]
    text = outline.render()
    assert "一、工作开展情况" in text and "    （三）深化“改革提效”，发展活力逐步显现" in text
    # every past document's own order of 一级 headings is listed too
    assert "《某市住建局2022年文明创建工作总结》：一、百分之百决心，上下同欲齐心干；二、百分之百标准" in text


def test_half_year_title_keeps_the_half_year_part(seeded: Any) -> None:
    outline = propose(CorpusStore(seeded), seeded, "工作总结", "市住建局2024年上半年工作总结")
    assert outline.nodes[-1].text == "下半年工作计划"


def test_too_few_documents_of_a_type_says_so_and_uses_the_nearest_type(seeded: Any) -> None:
    outline = propose(CorpusStore(seeded), seeded, "发言材料", "在全市住建工作会议上的发言")
    assert any("只有1篇发言材料" in n and "工作汇报" in n for n in outline.notes)
    assert len(outline.basis) == 3
    # the backbone is still the one 发言材料, not a 汇报
    assert outline.nodes[0].text == "站稳政治立场，筑牢对党绝对忠诚的政治信仰"
    assert "对仗" in outline.nodes[0].pattern


def test_enough_documents_need_no_fallback(seeded: Any) -> None:
    settings = seeded.model_copy(update={"outline_min_docs": 1})
    outline = propose(CorpusStore(settings), settings, "发言材料", "发言")
    assert len(outline.basis) == 1 and not any("相近文种" in n for n in outline.notes)


def test_empty_store_proposes_nothing_and_says_what_to_do(tmp_path: Path) -> None:
    settings = get_settings(store=tmp_path / "store")
    outline = propose(CorpusStore(settings), settings, "工作要点", "2025年工作要点")
    assert outline.nodes == [] and outline.basis == []
    assert "没有工作要点" in outline.notes[0] and "导入" in outline.notes[0]


def test_unknown_type_is_refused_in_chinese(tmp_path: Path) -> None:
    settings = get_settings(store=tmp_path / "store")
    with pytest.raises(InputError, match="不支持的文种"):
        propose(CorpusStore(settings), settings, "请示", "关于…的请示")


@pytest.mark.parametrize(("heading", "siblings", "expected"), [
    ("聚焦城市更新，做实民生保障", (), "「聚焦…，做实…」"),
    ("压实责任，凝聚合力", (), "四字短语并列"),
    ("（二）存在问题", (), "四字短语"),
    ("一、工作开展情况", (), ""),
    ("以学促干，基础在学习", ("以学促干，基础在学习", "以学促干，破题在调研"),
     "「以学…，基础…」，对仗（同以“以学促干”起句）"),
    ("加强党的建设", ("加强党的建设", "推进城市更新和老旧小区改造工作"), ""),
    # two plain headings of about one length: not 对仗
    ("工作开展情况", ("工作开展情况", "下一步工作打算"), ""),
    ("党建成效还不够明显", ("党建成效还不够明显", "重点工作推进还有差距", "遗留问题化解任重道远"), ""),
    ("生态宜居", ("生态宜居", "健康舒适", "安全韧性"), "四字短语，对仗（各条句式、字数相同）"),
])
def test_heading_patterns(heading: str, siblings: tuple[str, ...], expected: str) -> None:
    assert heading_pattern(heading, siblings) == expected


def test_roles_and_numbers() -> None:
    assert role_of("二、存在的问题和不足") == "问题"
    assert role_of("三、2025年工作打算") == "下一步"
    assert role_of("一、百分之百决心，上下同欲齐心干") == "主体"
    assert [number(1, 3), number(2, 11), number(3, 2), number(4, 1)] == ["三、", "（十一）", "2.", "（1）"]


def test_cli_outline_json_and_empty_store(seeded: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DRAFTING_STORE", str(seeded.store_path()))
    assert main(["outline", "--type", "工作总结", "--title", "2024年工作总结", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    payload = json.loads(out[0])
    assert [n["text"] for n in payload["nodes"]][:2] == ["工作开展情况", "存在问题"]
    assert payload["nodes"][0]["children"][0]["level"] == 2
    past = {p["title"]: p for p in payload["past"]}
    assert [h["text"] for h in past["市住建局2023年上半年工作总结"]["headings"]] == ["工作开展情况",
                                                                                     "存在问题",
                                                                                     "下半年工作计划"]
    assert main(["outline", "--type", "工作总结", "--title", "2024年工作总结"]) == 0
    assert "二、存在问题" in capsys.readouterr().out
    monkeypatch.setenv("DRAFTING_STORE", str(tmp_path / "empty"))
    assert main(["outline", "--type", "工作汇报", "--title", "汇报"]) == 1
    assert "无法从本局材料归纳提纲" in capsys.readouterr().out
    assert main(["outline", "--type", "请示", "--title", "x"]) == 2
    assert "不支持的文种" in capsys.readouterr().err


def test_a_work_plan_document_is_a_工作要点_and_is_mined_for_its_type(tmp_path: Path) -> None:
    from drafting.docmeta import _doc_type
    from drafting.ingest import ingest

    assert _doc_type("市住建局2024年工作要点") == "工作要点"
    assert _doc_type("关于印发市住建局2024年工作要点的通知") == "通知"
    folder = tmp_path / "corpus"
    folder.mkdir()
    for year in (2022, 2023):
        (folder / f"{year}.txt").write_text(
            f"市住建局{year}年工作要点\n一、总体要求\n坚持稳中求进工作总基调。\n二、重点任务\n（一）抓好住房保障\n"
            "新开工保障性住房。\n（二）推进城市更新\n改造老旧小区。\n三、保障措施\n强化组织领导。\n",
            encoding="utf-8")
    settings = get_settings(store=tmp_path / "store")
    ingest([folder], settings)
    outline = propose(CorpusStore(settings), settings, "工作要点", "市住建局2025年工作要点")
    assert not any("相近文种" in n for n in outline.notes) and len(outline.basis) == 2
    assert [n.text for n in outline.nodes] == ["总体要求", "重点任务", "保障措施"]
    assert [c.text for c in outline.nodes[1].children] == ["抓好住房保障", "推进城市更新"]
