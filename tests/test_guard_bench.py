"""bench/guard.py (planted errors) and bench/gongwen_guard.py (the port of gongwen's fact guard).

No timing is asserted: only that the port reproduces gongwen's own tests, that every plant changes the
passage in the place it says, deterministically, and that a run reports every class.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.conftest import ROOT, SHARED


def _load(name: str):  # bench/ is not a package: load by path
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


gongwen_guard = _load("gongwen_guard")
bench = _load("guard")


def test_gongwen_port_passes_gongwens_own_tests():
    old = "请某某市教育局于2026年8月21日拨付10万元，依据《测试办法》办理。"
    new = "请某某市教育局于2026年8月22日拨付12万元办理。"
    values = [v for _k, v in gongwen_guard.check(old, new)]
    assert "2026年8月21日" in values and "12万元" in values and "《测试办法》" in values
    assert "某某市教育局" not in values
    assert ("removed/person", "张三") in gongwen_guard.check("张三参加会议。", "李四参加会议。",
                                                             [("person", "张三")])


def test_gongwen_port_sets_and_precise_mode():
    # a set: a fact written twice counts once; nothing is normalised
    assert gongwen_guard.check("投资10万元，再投10万元", "投资10万元") == []
    assert ("added/number", "100000元") in gongwen_guard.check("10万元", "100000元")
    # the organisation-name heuristic is greedy; precise mode has none
    assert any(k == "added/unit" for k, _v in gongwen_guard.check("", "请于月底前报送我办综合科"))
    assert gongwen_guard.check("", "请于月底前报送我办综合科", precise=True) == []


CASE = {
    "id": "t-0",
    "bullets": [
        "全市完成房地产开发投资3.2亿元",
        "同比增长5.4%",
        "新开工保障性租赁住房1200套",
        "占比提高2个百分点",
        "居全省第3位",
        "超过800套在2023年11月6日前交付",
        "出台三项配套政策",
        "依据《城市更新行动实施方案》（沪建综规〔2024〕61号）",
    ],
}
CASE["reference"] = (
    "今年以来，我局扎实推进各项工作。全市完成房地产开发投资3.2亿元，同比增长5.4%，新开工保障性租赁住房1200套，"
    "占比提高2个百分点，居全省第3位。超过800套在2023年11月6日前交付。出台三项配套政策，"
    "依据《城市更新行动实施方案》（沪建综规〔2024〕61号）推进落实。"
)


def test_every_plant_changes_the_passage_deterministically():
    case = bench.make_case(CASE)
    assert len(case.spans) == len(CASE["bullets"])
    plants = bench.plants_for(case, 3)
    again = bench.plants_for(case, 3)
    assert [p.variant for p in plants] == [p.variant for p in again]
    classes = {p.cls for p in plants}
    assert classes >= {"digit", "removed", "invented_sentence", "scale", "pct_pp", "cn_quantity", "date",
                       "swap",
                       "rank", "reuse", "direction", "qualifier", "citation"}  # fmt: skip
    for p in plants:
        assert p.variant != CASE["reference"], p
    by = {}
    for p in plants:
        by.setdefault(p.cls, []).append(p)
    assert any("3.2万元" in p.variant for p in by["scale"])
    assert any("同比下降5.4%" in p.variant for p in by["direction"])
    assert any("2%" in p.variant for p in by["pct_pp"])
    assert any("第4位" in p.variant for p in by["rank"])
    assert any("不足800套" in p.variant for p in by["qualifier"])
    assert any("1200套" in p.variant and "800套" in p.variant for p in by["swap"])
    assert any("61号" not in p.variant for p in by["citation"])
    assert all("三项" not in p.variant for p in by["cn_quantity"])
    for p in by["reuse"]:  # the reused raw figure now occurs twice
        assert any(p.variant.count(f) == 2 for f in ("3.2亿元", "5.4%", "1200套", "800套", "2个百分点"))


def test_cn_percent_builds_a_clean_pair_in_both_bullet_and_passage():
    case = bench.make_case({"id": "t-1", "bullets": ["绿色建筑占比达到50%"],
                            "reference": "全市绿色建筑占比达到50%。"})
    plants = [p for p in bench.plants_for(case, 3) if p.cls == "cn_percent"]
    assert plants
    for p in plants:
        assert "50%" not in p.base_reference and "50%" not in p.base_bullets[0]
        assert p.base_bullets[0] in p.base_reference  # the same spelling on both sides
        assert p.variant != p.base_reference


@pytest.mark.skipif(not (SHARED / "eval" / "dev-cases.jsonl").exists(), reason="no shared eval cases")
def test_run_reports_every_class_for_every_guard():
    out = bench.run(bench.load(4), 3)
    for g in ("project", "gongwen", "gongwen_precise"):
        assert set(out["guards"][g]["classes"]) == set(bench.PLANTERS)
        for row in out["guards"][g]["classes"].values():
            assert 0 <= row["blocking"] <= row["caught"] <= row["n"]
