"""The fact guard on real passages: one test per planted-error class, and the paraphrases it must let pass.

Each passage is a real one from ../shared/corpus/public (the dev cases' references); the bullets are
its figure-bearing clauses, as a writer would jot them down.  Every planted test first checks that
the clean passage passes, so that "caught" means a finding the clean text did not have.
"""

from __future__ import annotations

import pytest

from drafting.facts import facts_of, similarity
from drafting.guard import check_figures, strict_same
from drafting.numerals import cn_digits_to_int, cn_to_int, int_to_cn
from drafting.quantities import (
    extract_citations,
    extract_claims,
    extract_dates,
    extract_figures,
    extract_ranks,
)

# 驻马店市 2020 政府工作报告 (dev case 041-0)
ZMD = (
    "全市生产总值完成2742.06亿元，增长7.4%；规上工业增加值增长8.1%；固定资产投资增长11.7%，居全省第三；"
    "社会消费品零售总额增长11.2%，居全省第二；一般公共预算收入增长15.1%，居全省第一；"
    "居民人均可支配收入增长9.2%，主要经济指标增速继续保持全省第一方阵。"
)
ZMD_BULLETS = [
    "全市生产总值完成2742.06亿元",
    "增长7.4%",
    "规上工业增加值增长8.1%",
    "固定资产投资增长11.7%",
    "社会消费品零售总额增长11.2%",
    "一般公共预算收入增长15.1%",
    "居民人均可支配收入增长9.2%",
]
# 上海市 绿色建筑 (dev case 003-0)
SH = (
    "发布《上海市绿色建筑创建行动实施方案》（沪建建材〔2020〕494号），强化新一轮绿色建筑发展要求。"
    "截至2020年12月，本市通过绿色建筑施工图专项审查并达到绿色建筑设计要求的建筑规模达到2.33亿平方米；"
    "本市获得绿色建筑评价标识项目总数达到874项，建筑面积合计8051万平方米，二星级以上占比超过80%。"
)
SH_BULLETS = [
    "发布《上海市绿色建筑创建行动实施方案》（沪建建材〔2020〕494号）",
    "截至2020年12月",
    "本市通过绿色建筑施工图专项审查并达到绿色建筑设计要求的建筑规模达到2.33亿平方米",
    "本市获得绿色建筑评价标识项目总数达到874项",
    "建筑面积合计8051万平方米",
    "二星级以上占比超过80%",
]
# 驻马店市 (dev case 041-1), a passage with many same-unit figures
ZMD2 = (
    "“双百”工程成效显著，100个重点项目完成投资695.4亿元，占年度计划的126.4%；40家企业主营业务收入超10亿元，"
    "3家超50亿元。全市规上工业企业达1029家，市场主体发展到35.5万户。“三大改造”齐头并进，投资3264亿元改造项目472个，"
    "新增国家级绿色示范工厂6家、省级智能工厂6家，完成企业上云1074家。"
    "全年接待游客5020万人次、旅游综合收入365.8亿元，分别增长22.5%、30.3%。"
)
ZMD2_BULLETS = [
    "100个重点项目完成投资695.4亿元",
    "占年度计划的126.4%",
    "40家企业主营业务收入超10亿元",
    "3家超50亿元",
    "全市规上工业企业达1029家",
    "市场主体发展到35.5万户",
    "“三大改造”齐头并进",
    "投资3264亿元改造项目472个",
    "新增国家级绿色示范工厂6家、省级智能工厂6家",
    "完成企业上云1074家",
    "全年接待游客5020万人次、旅游综合收入365.8亿元",
    "分别增长22.5%、30.3%",
]
PASSAGES = [(ZMD, ZMD_BULLETS), (SH, SH_BULLETS), (ZMD2, ZMD2_BULLETS)]


def _reasons(draft: str, bullets: list[str] | str) -> set[tuple[str, str, str]]:
    report = check_figures(draft, bullets)
    return {(f.kind, f.reason, f.text) for f in report.findings() if f.severity == "必查"}


def _caught(clean: str, planted: str, bullets: list[str],
            reason: str | None = None) -> set[tuple[str, str, str]]:
    assert planted != clean, "the plant changed nothing"
    new = _reasons(planted, bullets) - _reasons(clean, bullets)
    assert new, f"nothing caught in {planted!r}"
    if reason is not None:
        assert any(r == reason for _k, r, _t in new), new
    return new


@pytest.mark.parametrize(("clean", "bullets"), PASSAGES)
def test_clean_real_passages_pass(clean: str, bullets: list[str]) -> None:
    report = check_figures(clean, bullets)
    assert report.status == "ok", [f.message for f in report.findings()]


# ------------------------------------------------------------------------------------------
# one test per planted-error class


def test_digit_changed() -> None:
    _caught(ZMD, ZMD.replace("2742.06亿元", "2742.96亿元"), ZMD_BULLETS)


def test_figure_removed() -> None:
    _caught(SH, SH.replace("建筑面积合计8051万平方米，", ""), SH_BULLETS, "missing")


def test_invented_figure_sentence() -> None:
    _caught(ZMD, ZMD + "全年新增城镇就业3.6万人。", ZMD_BULLETS, "not_given")


def test_unit_scale_changed() -> None:
    _caught(SH, SH.replace("8051万平方米", "8051亿平方米"), SH_BULLETS)


def test_percentage_points_and_percent() -> None:
    bullets = ["常住人口城镇化率达42.39%", "提高1.5个百分点"]
    clean = "常住人口城镇化率达42.39%，提高1.5个百分点。"
    assert _reasons(clean, bullets) == set()
    _caught(clean, clean.replace("1.5个百分点", "1.5%"), bullets)


def test_chinese_numeral_quantity_changed() -> None:
    bullets = ["提前三年完成棚户区改造任务", "三项制度全面推开", "超五成居民参与"]
    clean = "提前三年完成棚户区改造任务，三项制度全面推开，超五成居民参与。"
    assert _reasons(clean, bullets) == set()
    _caught(clean, clean.replace("提前三年", "提前两年"), bullets)
    _caught(clean, clean.replace("三项制度", "五项制度"), bullets)
    _caught(clean, clean.replace("超五成", "超三成"), bullets)


def test_year_month_day_changed() -> None:
    _caught(SH, SH.replace("截至2020年12月", "截至2021年12月"), SH_BULLETS, "date")
    _caught(SH, SH.replace("截至2020年12月", "截至2020年11月"), SH_BULLETS, "date")
    bullets = ["11月6日召开全市住建工作会议"]
    _caught("11月6日召开全市住建工作会议。", "10月6日召开全市住建工作会议。", bullets, "date")


def test_the_documents_own_period_is_allowed() -> None:
    report = check_figures("2024年上半年，完成棚改3200套。", ["完成棚改3200套"], allowed_years=[2024])
    assert report.status == "ok", [f.message for f in report.findings()]
    report = check_figures("2024年上半年，完成棚改3200套。", ["完成棚改3200套"])
    assert report.status == "needs_review"


def test_two_figures_swapped_between_indicators() -> None:
    planted = ZMD.replace("规上工业增加值增长8.1%", "规上工业增加值增长#").replace(
        "固定资产投资增长11.7%", "固定资产投资增长8.1%"
    ).replace("#", "11.7%")
    _caught(ZMD, planted, ZMD_BULLETS, "indicator")
    planted = ZMD2.replace("完成投资695.4亿元", "完成投资#").replace("投资3264亿元",
                                                                     "投资695.4亿元").replace("#", "3264亿元")
    _caught(ZMD2, planted, ZMD2_BULLETS, "indicator")


def test_ranking_changed() -> None:
    bullets = ["一般公共预算收入增长15.1%，居全省第4位"]
    clean = "一般公共预算收入增长15.1%，居全省第4位。"
    assert _reasons(clean, bullets) == set()
    _caught(clean, clean.replace("第4位", "第5位"), bullets)
    words = ["一般公共预算收入增长15.1%，居全省第三"]
    _caught(words[0], words[0].replace("第三", "第二"), words, "rank")


def test_invented_sentence_reusing_a_writers_figure() -> None:
    _caught(ZMD2, ZMD2 + "同期全市新开工公租房5020万人次。", ZMD2_BULLETS)
    _caught(ZMD, ZMD + "城镇新增就业增长15.1%。", ZMD_BULLETS)


def test_direction_flipped() -> None:
    _caught(ZMD, ZMD.replace("固定资产投资增长11.7%", "固定资产投资下降11.7%"), ZMD_BULLETS, "direction")
    bullets = ["常住人口城镇化率提高1.5个百分点"]
    _caught(bullets[0], bullets[0].replace("提高", "降低"), bullets, "direction")


def test_qualifier_changed_added_or_dropped() -> None:
    _caught(SH, SH.replace("超过80%", "不足80%"), SH_BULLETS, "qualifier")
    _caught(SH, SH.replace("超过80%", "80%"), SH_BULLETS, "qualifier")
    bullets = ["城镇调查失业率4.1%", "总产25亿斤以上"]
    clean = "城镇调查失业率4.1%，总产25亿斤以上。"
    assert _reasons(clean, bullets) == set()
    _caught(clean, clean.replace("4.1%", "4.1%左右"), bullets, "qualifier")
    _caught(clean, clean.replace("以上", ""), bullets, "qualifier")
    _caught(clean, clean.replace("总产", "总产约"), bullets, "qualifier")


def test_period_changed() -> None:
    _caught(ZMD2, ZMD2.replace("全年接待游客", "上半年接待游客"), ZMD2_BULLETS, "period")
    bullets = ["完成棚户区改造3200套", "上年棚改2845套"]
    clean = "完成棚户区改造3200套，上年棚改2845套。"
    assert _reasons(clean, bullets) == set()
    # a last-year comparison become an achievement
    _caught(clean, "完成棚户区改造3200套，棚改2845套。", bullets, "period")


@pytest.mark.parametrize(
    ("word", "changed"),
    [("三成", "五成"), ("百分之三十", "百分之四十"), ("一半", "三分之一"), ("翻一番", "翻两番"),
     ("三分之一", "四分之一")],
)
def test_chinese_word_percentages(word: str, changed: str) -> None:
    bullets = [f"老旧小区改造惠及{word}以上的城镇居民"]
    clean = bullets[0] + "。"
    assert _reasons(clean, bullets) == set()
    _caught(clean, clean.replace(word, changed), bullets)


def test_words_and_digits_of_one_share_agree() -> None:
    assert _reasons("占比达到30%。", ["占比达到三成"]) == set()
    assert _reasons("占比达到百分之五十。", ["占比达到一半"]) == set()


def test_cited_documents() -> None:
    _caught(SH, SH.replace("《上海市绿色建筑创建行动实施方案》", ""), SH_BULLETS, "citation")
    _caught(SH, SH.replace("〔2020〕494号", "〔2021〕494号"), SH_BULLETS)
    # a basis the writer did not give is shown to verify
    report = check_figures(SH + "依据《上海市住宅物业管理规定》开展检查。", SH_BULLETS)
    assert any(f.reason == "citation" and f.severity == "提示" for f in report.findings())


def test_gongwens_own_pair() -> None:
    original = "请某某市教育局于2026年8月21日拨付10万元，依据《测试办法》办理。"
    rewrite = "请某某市教育局于2026年8月22日拨付12万元办理。"
    assert _reasons(original, original) == set()
    found = _reasons(rewrite, original)
    kinds = {(k, r) for k, r, _t in found}
    assert ("unverified", "date") in kinds  # the changed date
    assert ("missing", "citation") in kinds  # the dropped 《测试办法》
    assert any(t == "12万元" for _k, _r, t in found)  # the amount


def test_superlative_claims_are_shown_to_verify_not_blocked() -> None:
    report = check_figures("完成棚改3200套，创历史新高，居全国领先水平。", ["完成棚改3200套"])
    notes = {f.text for f in report.findings() if f.severity == "提示"}
    assert {"创历史新高", "全国领先"} <= notes
    assert report.status == "ok"


# ------------------------------------------------------------------------------------------
# what must not be a false alarm


def test_a_paraphrase_keeps_its_indicator() -> None:
    assert _reasons("撬动社会资金35.2亿元。", ["带动全社会投入35.2亿元"]) == set()
    assert _reasons("棚户区改造完成3200套。", ["棚改完成3200套"]) == set()
    assert _reasons("3200套棚户区改造任务全面完成。", ["完成棚户区改造3200套"]) == set()


def test_a_bare_number_vouches_for_no_unit() -> None:
    assert _reasons("采购显示屏15英寸。", ["新增15个"]) != set()
    assert _reasons("提高4个百分点。", ["落实“8+4”工作机制"]) != set()
    assert _reasons("新增15个。", ["新增15个"]) == set()


def test_strict_same_ranges() -> None:
    a, b = extract_figures("3-5个")[0], extract_figures("3-6个")[0]
    assert a.high == 5 and b.high == 6
    assert not strict_same(a, b)
    assert strict_same(a, extract_figures("3至5个")[0])


# ------------------------------------------------------------------------------------------
# derived rates from prose


def test_rate_follows_the_changed_base_value() -> None:
    bullets = ["完成棚户区改造3200套，同比增长12.5%", "上年棚改2845套"]
    assert _reasons("完成棚户区改造3200套，同比增长12.5%。", bullets) == set()
    report = check_figures("完成棚户区改造3300套，同比增长12.5%。", bullets)
    bad = [d for d in report.derived if not d.ok]
    assert bad and "3300" in bad[0].explanation and "2845" in bad[0].explanation


def test_rate_from_an_increment_and_the_exact_value_is_stated() -> None:
    bullets = ["完成棚户区改造3200套", "比上年增加586套", "增长22%"]
    report = check_figures("完成棚户区改造3200套，比上年增加586套、增长22%。", bullets)
    ok = [d for d in report.derived if d.ok]
    assert ok and "22.4%" in ok[0].explanation  # (3200-2614)/2614 = 22.42%: shown to one decimal
    report = check_figures("完成棚户区改造3200套，比上年增加586套、增长20%。", bullets)
    bad = [d for d in report.derived if not d.ok]
    assert bad and "应为“增长22.4%”" in bad[0].explanation


# ------------------------------------------------------------------------------------------
# the lexer and the numeral table


def test_numerals_table() -> None:
    assert [cn_to_int(s) for s in ("三千五百", "十二", "一百零五", "两", "三万五",
                                   "九九")] == [3500, 12, 105, 2, None, None]
    assert cn_digits_to_int("二〇二三") == 2023
    assert [int_to_cn(n) for n in (1, 10, 12, 20, 99)] == ["一", "十", "十二", "二十", "九十九"]


def test_lexer_kinds() -> None:
    text = "2023年11月6日，居全省第4位，首次实现，依据《测试办法》和沪建综规〔2024〕61号，1-10月完成3-5个。"
    assert [(d.year, d.month, d.day) for d in extract_dates(text)] == [(2023, "11", 6), (None, "1-10", None)]
    assert [r.key for r in extract_ranks(text)] == ["全省|4"]
    assert [c.key for c in extract_claims(text)] == ["首次"]
    assert [c.key for c in extract_citations(text)] == ["《测试办法》", "〔2024〕61号"]
    assert [f.raw for f in extract_figures(text)] == ["3-5个"]
    # not rankings: 第三产业, 前三季度
    assert extract_ranks("第三产业增加值增长5%，前三季度完成投资") == []


def test_facts_of_a_clause() -> None:
    text = "全年接待游客5020万人次、旅游综合收入365.8亿元，分别增长22.5%、30.3%；上年棚改2845套，超过1200套"
    facts = {f.figure.raw: f for f in facts_of(text, extract_figures(text))}
    assert facts["5020万人次"].indicator == "接待游客" and facts["5020万人次"].period == "本年"
    assert facts["30.3%"].direction == "up"
    assert facts["2845套"].period == "上年"
    assert facts["1200套"].qualifiers == {"MORE"}
    assert similarity("棚户区改造", "棚改") > similarity("接待游客", "新开工公租房") == 0.0


@pytest.mark.parametrize(
    ("bullets", "draft"),
    [
        (["全市生产总值完成2742.06亿元", "增长7.4%"], "全年实现地区生产总值2742.06亿元，同比增长7.4%。"),
        (["完成棚户区改造3200套，同比增长12.5%", "上年棚改2845套"],
         "棚户区改造完成3200套，比上年的2845套增长12.5%。"),
        (["新增国家级绿色示范工厂6家、省级智能工厂6家"], "新增国家级绿色示范工厂和省级智能工厂各6家。"),
        (["全年接待游客5020万人次、旅游综合收入365.8亿元", "分别增长22.5%、30.3%"],
         "全年接待游客5020万人次，增长22.5%；实现旅游综合收入365.8亿元，增长30.3%。"),
        (["建成区绿化覆盖率达到42.3%，比上年提高1.2个百分点"],
         "建成区绿化覆盖率提高1.2个百分点，达到42.3%。"),
        (["二星级以上占比超过80%"], "二星级及以上项目占比超过八成。"),
        (["老旧小区改造完成120个，惠及居民3.2万户"], "全年完成老旧小区改造120个，惠及3.2万户居民。"),
    ],
)
def test_what_a_model_rewrites_is_no_false_alarm(bullets: list[str], draft: str) -> None:
    """Rewordings a model makes (全年 added, 比上年的, 各6家, a 分别 list split, 八成 for 80%) keep
    every fact."""
    report = check_figures(draft, bullets)
    assert report.status == "ok", [f.message for f in report.findings()]
