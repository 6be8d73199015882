"""The figure guard: normalisation, what is not a figure, missing/unverified, derived rates."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drafting.figures import chunk_figures
from drafting.guard import (
    DerivedCheck,
    Figure,
    GuardReport,
    check_figures,
    compare_suggestion,
    extract_figures,
    same_value,
)
from tests.conftest import SHARED

DEV_CASES = SHARED / "eval" / "dev-cases.jsonl"

BULLETS = [
    "全年新增公共停车泊位1.2万个",
    "同比增长8.5%",
    "完成投资3.2亿元",
    "改造老旧小区126个、惠及居民3,450户",
]
DRAFT = (
    "今年以来，我局扎实推进城市更新。全年新增公共停车泊位1.2万个，同比增长8.5%，"
    "完成投资3.2亿元；改造老旧小区126个，惠及居民3450户。"
)


def _one(text: str) -> Figure:
    figs = extract_figures(text)
    assert len(figs) == 1, [f.raw for f in figs]
    return figs[0]


def _raws(text: str) -> list[str]:
    return [f.raw for f in extract_figures(text)]


# ------------------------------------------------------------------------------------------
# check_figures: missing and unverified


def test_correct_figures_are_ok() -> None:
    report = check_figures(DRAFT, BULLETS)
    assert report.missing == []
    assert report.unverified == []
    assert report.status == "ok"
    assert sorted(f.raw for f in report.provided) == sorted(
        ["1.2万个", "8.5%", "3.2亿元", "126个", "3,450户"]
    )


def test_changed_figure_is_one_missing_and_one_unverified() -> None:
    draft = DRAFT.replace("8.5%", "8.6%")
    report = check_figures(draft, BULLETS)
    assert [f.raw for f in report.missing] == ["8.5%"]
    assert [f.raw for f in report.unverified] == ["8.6%"]
    bad = report.unverified[0]
    assert draft[bad.start : bad.end] == "8.6%"
    assert bad.start == draft.index("8.6%")
    assert report.status == "needs_review"


def test_dropped_figure_is_missing_without_a_draft_position() -> None:
    draft = DRAFT.replace("，完成投资3.2亿元", "")
    report = check_figures(draft, "\n".join(BULLETS))
    assert [f.raw for f in report.missing] == ["3.2亿元"]
    gone = report.missing[0]
    assert gone.start is None and gone.end is None
    assert gone.value == 3.2e8 and gone.unit == "元"
    as_json = report.to_json()
    assert as_json["missing"] == [
        {"text": "3.2亿元", "value": 3.2e8, "unit": "元", "thing": gone.thing, "start": None, "end": None,
         "kind": "figure", "reason": "missing", "message": gone.message, "severity": "必查"}
    ]
    json.dumps(as_json, ensure_ascii=False)  # serialisable
    assert report.unverified == []
    assert report.status == "needs_review"


def test_invented_figure_is_unverified_with_its_position() -> None:
    draft = DRAFT + "新建口袋公园15处。"
    report = check_figures(draft, BULLETS)
    assert report.missing == []
    assert len(report.unverified) == 1
    f = report.unverified[0]
    assert f.raw == "15处" and f.value == 15 and f.unit == "处"
    assert (f.start, f.end) == (draft.index("15处"), draft.index("15处") + 3)
    assert draft[f.start : f.end] == f.raw
    assert report.to_json()["unverified"][0]["start"] == f.start
    assert report.status == "needs_review"


def test_repeated_invented_figure_is_reported_at_each_place() -> None:
    draft = "新建口袋公园15处，其中城区15处。"
    report = check_figures(draft, ["新建口袋公园12处"])
    assert [(f.raw, f.start) for f in report.unverified] == [("15处", 6), ("15处", 14)]
    assert [f.raw for f in report.missing] == ["12处"]


def test_provided_figures_are_unique_and_json_has_five_lists() -> None:
    report = check_figures("完成8个，另有8个。", ["完成8个", "又完成8个"])
    assert [f.raw for f in report.provided] == ["8个"]
    assert set(report.to_json()) == {"provided", "missing", "unverified", "derived", "to_verify"}
    assert isinstance(report, GuardReport)


def test_empty_inputs() -> None:
    assert check_figures("", []).status == "ok"
    report = check_figures("", ["完成8个"])
    assert [f.raw for f in report.missing] == ["8个"]
    report = check_figures("完成8个", "")
    assert [f.raw for f in report.unverified] == ["8个"]


# ------------------------------------------------------------------------------------------
# normalisation


def test_wan_equals_plain() -> None:
    a, b = _one("新增停车泊位1.2万个"), _one("新增停车泊位12000个")
    assert a.value == b.value == 12000.0 and a.unit == b.unit == "个"
    assert same_value(a, b)
    assert check_figures("新增停车泊位12000个", ["新增停车泊位1.2万个"]).status == "ok"


def test_thousands_separators() -> None:
    ascii_sep, fw_sep, plain = _one("共1,234户"), _one("共1，234户"), _one("共1234户")
    assert ascii_sep.value == fw_sep.value == plain.value == 1234.0
    assert ascii_sep.raw == "1,234户" and fw_sep.raw == "1，234户"
    assert _one("合计12,345.6万元").value == pytest.approx(123456000.0)
    # a comma that is not a thousands separator keeps both numbers
    assert [f.value for f in extract_figures("分别为12，3456")] == [12.0, 3456.0]
    assert same_value(_one("1,234"), _one("1234"))


def test_full_width_digits() -> None:
    f = _one("完成投资１２３亿元")
    assert f.raw == "１２３亿元" and f.value == 1.23e10 and f.unit == "元"
    g = _one("增长８．５％")
    assert g.value == 8.5 and g.unit == "%"
    assert check_figures("增长８．５％", ["增长8.5%"]).status == "ok"


def test_yi_equals_wan_and_yuan() -> None:
    yi, wan, yuan = _one("投资3.2亿元"), _one("投资32000万元"), _one("投资320000000元")
    assert yi.value == wan.value == yuan.value == 3.2e8
    assert yi.unit == wan.unit == yuan.unit == "元"
    assert same_value(yi, wan) and same_value(wan, yuan)
    assert _one("1.2万亿元").value == 1.2e12
    assert _one("突破9千亿元").value == 9e11


def test_unit_normalisation() -> None:
    assert _one("面积3.5万平方米").unit == "平方米"
    assert same_value(_one("面积3.5万平方米"), _one("面积35000平米"))
    assert same_value(_one("5万户"), _one("50000户"))
    assert same_value(_one("3400万人"), _one("34000000人"))
    assert _one("2千米").unit == "公里" and _one("2千米").value == 2.0
    assert _one("5千户").value == 5000.0
    assert _one("2000m3").unit == "立方米"
    assert _one("3.16亿美元").unit == "美元"
    assert not same_value(_one("3.16亿美元"), _one("3.16亿元"))
    assert _one("2000余项").value == 2000.0 and _one("2亿多元").value == 2e8


def test_percent_and_percentage_point_are_distinct() -> None:
    pct, pp = _one("增长3%"), _one("提高3个百分点")
    assert pct.unit == "%" and pp.unit == "个百分点"
    assert not same_value(pct, pp)
    assert same_value(_one("提高3个百分点"), _one("提高3百分点"))
    report = check_figures("占比提高3%", ["占比提高3个百分点"])
    assert [f.raw for f in report.missing] == ["3个百分点"]
    assert [f.raw for f in report.unverified] == ["3%"]


def test_unit_compatibility() -> None:
    assert not same_value(_one("8个"), _one("8户"))
    assert same_value(_one("达到8"), _one("8个"))  # a bare number matches any unit
    assert same_value(_one("8个"), _one("达到8"))
    assert not same_value(_one("8个"), _one("9个"))
    assert not same_value(_one("1.2万人"), _one("1.2万人次"))


def test_chinese_numerals_with_measure_words() -> None:
    assert [(f.raw, f.value, f.unit) for f in extract_figures("惠及三千户，建成十二个，引进两百余家")] == [
        ("三千户", 3000.0, "户"),
        ("十二个", 12.0, "个"),
        ("两百余家", 200.0, "家"),
    ]
    f = _one("补助资金一百二十万元")
    assert f.value == 1.2e6 and f.unit == "元"
    assert same_value(_one("三千户"), _one("3000户"))
    assert _one("一百零五套").value == 105.0
    assert _one("新建三千五百万平方米").value == 3.5e7


@pytest.mark.parametrize(
    "text",
    [
        "二十大",
        "“十四五”时期",
        "十四五期间",
        "十三五",
        "三农工作",
        "两个确立",
        "两个维护",
        "增强四个意识",
        "一带一路",
        "一网通办",
        "实现“三连冠”",
        "一把手",
        "一支部一品牌",
        "获得感、幸福感、安全感“三感”",
        "一是加强领导，二是强化措施",
        "省第十三次党代会",
        "双碳",
        "一体化",
        "一站式",
        "一次性告知",
        "一批项目",
        "进一步",
        "统一",
        "唯一",
        "一定",
        "一些",
        "一系列",
        "一起",
        "第一",
        "第三季度",
        "三季度",
        "上半年",
        "（一）",
        "三次产业结构",
        "二类水质",
        "收支“两条线”",
        "市一届人大五次会议",
        "十一届十次、十一次全会",
        "居全省第一、二、三位",
        "十五分钟社区生活圈",
        "突破两位数",
        "十分重要",
    ],
)
def test_set_phrases_and_ordinals_are_not_figures(text: str) -> None:
    assert extract_figures(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "2023年",
        "2023年9月",
        "9月9日",
        "2023-09-09",
        "2023.9.9",
        "2023/09",
        "1-9月",
        "3月25日、6月25日",
        "11月30日前",
        "1月份",
        "2015、2016年度",
        "2021—2025年",
        "“绿盾2018”专项行动",
        "沪府办发〔2021〕20号",
        "国发[2021]33号",
        "中央1号文件",
        "第8.6代线",
        "全国第1位",
        "（见附件2）",
        "5G工厂",
        "4S店",
        "PM2.5浓度",
        "电动垂直起降飞行器AR-E3000",
        "GB 50011-2010",
        "10:30召开",
        "［12］",
        "国道318线",
        "工业4.0版",
        "12345热线",
        "京政发〔2021〕20、21号文件",
        "面积1*.*万平方米，*2个",
    ],
)
def test_dates_codes_and_labels_are_not_figures(text: str) -> None:
    assert extract_figures(text) == []


def test_codes_next_to_real_figures() -> None:
    assert _raws("引进8家4S店，建成5G基站1.2万个，PM2.5浓度下降10%") == ["8家", "1.2万个", "10%"]


def test_ratios_are_figures_but_clock_times_are_not() -> None:
    assert _raws("三次产业结构从27.5:41.8:30.7调整为22.3：40.1：37.6") == [
        "27.5", "41.8", "30.7", "22.3", "40.1", "37.6",
    ]  # fmt: skip
    assert _raws("上午9:30召开，17:05结束") == []


def test_heading_markers_at_line_start() -> None:
    text = "1.加强组织领导\n2、强化督导\n（3）完善机制\n4.5万户完成改造\n完成投资12.5亿元"
    assert _raws(text) == ["4.5万户", "12.5亿元"]


def test_seed_like_sentence_has_no_figures() -> None:
    text = (
        "深入贯彻党的二十大精神以及省第十三次党代会精神，实现“三连冠”，2023年上半年，"
        "一是坚持党建引领，二是聚焦“十四五”目标，推进一网通办和“一支部一品牌”创建。"
    )
    assert extract_figures(text) == []
    # the year is not a figure, but it is a fact the writer did not give: the only finding
    report = check_figures(text, [])
    assert [(f.reason, f.text) for f in report.findings()] == [("date", "2023年")]
    assert check_figures(text, ["2023年上半年"]).status == "ok"


def test_counts_in_words_are_figures_now() -> None:
    """Counts the eval's bullets carry (its README, 2026-11-28) are figures, slogans included."""
    got = _raws("五年来，打造“五张名片”，落实“三个一号”工程，约占六分之一")
    assert got == ["五年", "五张", "三个", "六分之一"]


def test_years_and_durations() -> None:
    assert _raws("连续4年保持，以10年为一周期，2023年完成") == ["4年", "10年"]
    assert _raws("完成2023个") == ["2023个"]  # a count, not a year
    assert _raws("2,023") == ["2,023"]


def test_masked_slots_and_placeholders_are_ignored() -> None:
    text = "改造老旧小区***个，面积***万平方米，*万户，新增泊位*.**万个，计划投资额*亿元，完成【待补充】个"
    assert extract_figures(text) == []
    report = check_figures(text, ["改造老旧小区126个"])
    assert report.unverified == []
    assert [f.raw for f in report.missing] == ["126个"]
    assert chunk_figures(text)  # the chunk metadata helper still reports masks


def test_figure_fields_and_thing() -> None:
    text = "全市新增公共停车泊位1.2万个"
    f = _one(text)
    assert (f.raw, f.value, f.unit) == ("1.2万个", 12000.0, "个")
    assert "停车泊位" in f.thing
    assert text[f.start : f.end] == f.raw
    assert f.to_json() == {
        "text": "1.2万个",
        "value": 12000.0,
        "unit": "个",
        "thing": f.thing,
        "start": 10,
        "end": 15,
    }


# ------------------------------------------------------------------------------------------
# derived figures


def test_derived_rate_from_pairs_right() -> None:
    draft = "全市新增停车泊位1.2万个，同比增长20%。"
    report = check_figures(draft, ["新增停车泊位1.2万个"], pairs=[("停车泊位", 12000, 10000, "个")])
    assert len(report.derived) == 1
    d = report.derived[0]
    assert d.ok and d.stated == 20.0 and d.computed == pytest.approx(20.0)
    assert draft[d.start : d.end] == d.statement == "同比增长20%"
    assert "（12000-10000）/10000=20.0%" in d.explanation
    assert report.unverified == []  # the rate is derived, not invented
    assert report.status == "ok"
    assert report.to_json()["derived"][0]["ok"] is True


def test_derived_rate_from_pairs_wrong() -> None:
    draft = "全市新增停车泊位1.2万个，同比增长25%。"
    report = check_figures(draft, ["新增停车泊位1.2万个"], pairs=[("停车泊位", 1.2, 1.0, "万个")])
    [d] = report.derived
    assert isinstance(d, DerivedCheck)
    assert not d.ok and d.stated == 25.0 and d.computed == pytest.approx(20.0)
    assert "（12000-10000）/10000=20.0%" in d.explanation and "25%" in d.explanation
    assert [f.raw for f in report.unverified] == ["25%"]
    assert report.status == "needs_review"


def test_derived_rate_precision_follows_the_statement() -> None:
    pairs = [("停车泊位", 10850, 10000, "个")]  # 8.5%
    assert check_figures("停车泊位10850个，增长8.5%", [], pairs=pairs).derived[0].ok
    assert check_figures("停车泊位10850个，增长9%", [], pairs=pairs).derived[0].ok  # 8.5 -> 9 at 0 decimals
    assert not check_figures("停车泊位10850个，增长8.6%", [], pairs=pairs).derived[0].ok
    assert not check_figures("停车泊位10850个，下降8.5%", [], pairs=pairs).derived[0].ok


def test_derived_decrease_and_percentage_points() -> None:
    report = check_figures("商品房库存8000套，同比下降20%。", [], pairs=[("库存", 8000, 10000, "套")])
    [d] = report.derived
    assert d.ok and d.stated == -20.0 and d.computed == pytest.approx(-20.0)
    report = check_figures("城镇化率31.54%，提高10.94个百分点。", [], pairs=[("城镇化率", 31.54, 20.6, "%")])
    [d] = report.derived
    assert d.ok and d.computed == pytest.approx(10.94)
    assert "31.54%-20.6%" in d.explanation
    wrong = check_figures("城镇化率31.54%，提高11.94个百分点。", [], pairs=[("城镇化率", 31.54, 20.6, "%")])
    assert not wrong.derived[0].ok and wrong.status == "needs_review"


def test_derived_rate_from_bullet_pairs() -> None:
    bullets = ["新增停车泊位本期1.2万个，上年1万个"]
    ok = check_figures("全市新增停车泊位1.2万个，比上年增长20%。", bullets)
    assert [d.ok for d in ok.derived] == [True]
    assert ok.unverified == [] and ok.missing == [] and ok.status == "ok"
    bad = check_figures("全市新增停车泊位1.2万个，比上年增长12%。", bullets)
    assert [d.ok for d in bad.derived] == [False]
    assert [f.raw for f in bad.unverified] == ["12%"]
    from_to = check_figures(
        "城镇化率由20.6%提高到31.54%，提高10.94个百分点。", ["城镇化率由20.6%提高到31.54％"]
    )
    assert [d.ok for d in from_to.derived] == [True] and from_to.status == "ok"


def test_compound_or_distant_rates_are_not_checked() -> None:
    pairs = [("停车泊位", 12000, 10000, "个")]
    annual = check_figures("停车泊位1.2万个，年均增长6.5%。", [], pairs=pairs)
    assert annual.derived == [] and [f.raw for f in annual.unverified] == ["6.5%"]
    far = "停车泊位建设在全市范围内持续深入有序推进并取得了明显成效和积极进展，同比增长25%。"
    assert check_figures(far, [], pairs=pairs).derived == []
    near = "停车泊位建设持续推进，同比增长25%。"
    assert [d.ok for d in check_figures(near, [], pairs=pairs).derived] == [False]


def test_rate_about_another_indicator_is_not_checked() -> None:
    pairs = [("停车泊位", 12000, 10000, "个")]
    draft = "新增停车泊位1.2万个；完成投资3.2亿元，同比增长8.5%。规上工业增加值年均增长6.5%。"
    report = check_figures(draft, ["新增停车泊位1.2万个", "完成投资3.2亿元", "同比增长8.5%"], pairs=pairs)
    assert report.derived == []
    assert [f.raw for f in report.unverified] == ["6.5%"]


# ------------------------------------------------------------------------------------------
# compare_suggestion


def test_compare_suggestion_same() -> None:
    assert compare_suggestion("新增泊位1.2万个，增长8.5%", "泊位新增12000个，同比增长8.5%") == []


def test_compare_suggestion_added_removed_changed() -> None:
    original = "新增泊位1.2万个，增长8.5%，完成投资3.2亿元。"
    assert compare_suggestion(original, original + "绿化覆盖率达12%。") == ["新增数字：12%"]
    assert compare_suggestion(original, "新增泊位1.2万个，增长8.5%。") == ["删除数字：3.2亿元"]
    assert compare_suggestion(original, original.replace("8.5%", "8.6%")) == ["修改数字：8.5%→8.6%"]
    notes = compare_suggestion(original, "新增泊位1.2万个，增长8.5%，绿化覆盖率12%。")
    assert sorted(notes) == sorted(["删除数字：3.2亿元", "新增数字：12%"])


def test_compare_suggestion_counts_duplicates() -> None:
    assert compare_suggestion("建成8个，改造8个", "建成8个") == ["删除数字：8个"]


# ------------------------------------------------------------------------------------------
# properties

_amounts = st.one_of(
    st.integers(min_value=0, max_value=10**12).map(Decimal),
    st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False, allow_infinity=False),
)
_FULL = str.maketrans("0123456789.", "０１２３４５６７８９．")


@settings(max_examples=300, deadline=None)
@given(_amounts)
def test_normalisation_property(n: Decimal) -> None:
    plain = format(n, "f")
    variants = [
        plain,
        format(n, ","),
        format(n, ",").replace(",", "，"),
        plain.translate(_FULL),
        format(n / Decimal(10000), "f") + "万",
    ]
    for written in variants:
        text = f"共建成{written}个项目"
        f = _one(text)
        assert f.unit == "个"
        assert f.value == pytest.approx(float(n), rel=1e-12, abs=1e-9), written
        assert text[f.start : f.end] == f.raw
    first = _one(f"共建成{plain}个项目")
    assert all(same_value(first, _one(f"共建成{w}个项目")) for w in variants)


_ALPHABET = list(
    "0123456789０１２３４５６７８９.．,，%％*＊万亿千百十零〇一二两三四五六七八九"
    '个户元年月日号第是届次会期余多“”"（）()〔〕[]［］【】、；。：:-—~ \n\tABGmkSW点位项家人平方米'
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(alphabet=st.sampled_from(_ALPHABET), max_size=80), st.text(max_size=80)))
def test_extract_never_raises_and_offsets_hold(text: str) -> None:
    figs = extract_figures(text)
    for f in figs:
        assert f.start is not None and f.end is not None
        assert text[f.start : f.end] == f.raw
        assert f.raw
    starts = [f.start for f in figs]
    assert starts == sorted(starts)
    check_figures(text, text)  # never raises either
    compare_suggestion(text, text[::-1])


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(_ALPHABET), max_size=80))
def test_a_text_checked_against_itself_is_ok(text: str) -> None:
    report = check_figures(text, text)
    assert report.missing == [] and report.unverified == []
    assert compare_suggestion(text, text) == []


# ------------------------------------------------------------------------------------------
# real cases and speed


def _dev_cases() -> list[dict]:
    if not DEV_CASES.exists():
        pytest.skip("shared/eval/dev-cases.jsonl is not available")
    return [json.loads(line) for line in DEV_CASES.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_dev_cases_reference_contains_every_bullet_figure() -> None:
    cases = _dev_cases()
    assert len(cases) >= 100
    reports = {c["id"]: check_figures(c["reference"], c["bullets"]) for c in cases}
    complete = [cid for cid, r in reports.items() if not r.missing]
    assert len(complete) / len(cases) >= 0.95, {
        cid: [f.raw for f in r.missing] for cid, r in reports.items() if r.missing
    }
    # every bullet holds a digit, so the guard must find figures in almost all of them
    assert sum(1 for r in reports.values() if r.provided) / len(cases) >= 0.95
    # the reference only adds numbers written as Chinese numerals (三条主干道路 …): a few cases
    with_extra = [cid for cid, r in reports.items() if r.unverified]
    assert len(with_extra) / len(cases) <= 0.15, with_extra
    for c in cases:
        for f in reports[c["id"]].unverified:
            assert c["reference"][f.start : f.end] == f.raw


def test_dev_cases_bullet_numbers_are_found() -> None:
    """Most of the case's digit figures that are not dates are extracted from the bullets."""
    cases = _dev_cases()
    found = total = 0
    for c in cases:
        values = {f.value for f in extract_figures("\n".join(c["bullets"]))}
        for fig in c["figures"]:
            total += 1
            found += any(abs(v - float(fig)) < 1e-9 or abs(v / 10**4 - float(fig)) < 1e-9 or
                         abs(v / 10**8 - float(fig)) < 1e-9 or abs(v / 10**12 - float(fig)) < 1e-9
                         for v in values)  # fmt: skip
    assert found / total >= 0.85, (found, total)


