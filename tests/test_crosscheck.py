"""Checks across the sections of a document: each one can fail, and agreeing texts pass."""

from __future__ import annotations

from drafting.crosscheck import Part, check_document


def _kinds(parts: list[Part]) -> list[str]:
    return [f.kind for f in check_document(parts)]


# ---- a figure stated in two sections -----------------------------------------------------------


def test_the_same_figure_with_two_values_is_found() -> None:
    parts = [Part("一、工作开展情况", 1, ""),
             Part("（一）住房保障", 2, "全年新开工保障性住房1200套，发放租赁补贴3000户。"),
             Part("二、存在问题", 1, "虽然新开工保障性住房1250套，但配套设施仍有短板。")]
    [finding] = check_document(parts)
    assert finding.kind == "figure" and finding.where == ["（一）住房保障", "二、存在问题"]
    assert "1200套" in finding.message and "1250套" in finding.message and "请核实后统一" in finding.message


def test_the_same_figure_written_differently_agrees() -> None:
    parts = [Part("一、工作开展情况", 1, "新开工保障性住房1.2万套。"),
             Part("二、下一步工作", 1, "巩固保障性住房新开工12000套的成果。")]
    assert check_document(parts) == []


def test_different_indicators_periods_rates_and_qualifiers_are_not_compared() -> None:
    parts = [Part("一、住房保障", 1, "新开工保障性住房1200套，同比增长12%。上年新开工保障性住房1000套。"),
             Part("二、城市更新", 1, "完成老旧小区改造1300个，新开工保障性住房超过1100套，同比增长15%。")]
    assert check_document(parts) == []


# ---- numbering -----------------------------------------------------------------------------


def test_numbering_runs_through_the_document() -> None:
    parts = [Part("一、工作开展情况", 1, ""),
             Part("（一）住房保障", 2, "1.加强保障。正文。\n2.强化监管。正文。"),
             Part("（二）城市更新", 2, "1.老旧小区。正文。\n3.背街小巷。正文。")]
    [finding] = check_document(parts)
    assert finding.kind == "numbering" and "“3.背街小巷”" in finding.message  # the heading, not the body
    assert "应为“2.”" in finding.message and "（二）城市更新" in finding.message


def test_an_outline_level_heading_inside_a_section_is_out_of_place() -> None:
    parts = [Part("一、工作开展情况", 1, ""),
             Part("（一）住房保障", 2, "正文。\n（二）城市更新\n正文。"),
             Part("（二）物业管理", 2, "正文。")]
    [finding] = check_document(parts)
    assert finding.kind == "numbering" and "正文里有提纲级别的标题“（二）城市更新”" in finding.message


def test_sections_drafted_on_their_own_raise_no_numbering_warning() -> None:
    # （二） drafted alone is numbered by its place in the outline: nothing to say
    parts = [Part("一、工作开展情况", 1, ""), Part("（一）住房保障", 2, "正文。"),
             Part("（二）城市更新", 2, "正文。"), Part("二、存在问题", 1, "正文。")]
    assert check_document(parts) == []


# ---- 总述 and the sections below it ------------------------------------------------------------


def test_a_total_that_is_the_sum_of_its_parts_passes() -> None:
    parts = [Part("一、工作开展情况", 1, "全年新开工保障性住房2700套，完成老旧小区改造120个。"),
             Part("（一）住房保障", 2, "新开工公租房保障性住房1200套。"),
             Part("（二）城市更新", 2, "新开工保障性住房1500套，完成老旧小区改造120个。")]
    assert check_document(parts) == []


def test_a_total_that_contradicts_its_parts_is_found() -> None:
    parts = [Part("一、工作开展情况", 1, "全年新开工保障性住房3200套。"),
             Part("（一）住房保障", 2, "新开工保障性住房1200套。"),
             Part("（二）城市更新", 2, "新开工保障性住房1500套。"),
             Part("二、存在问题", 1, "正文。")]
    [finding] = check_document(parts)
    assert finding.kind == "total" and "3200套" in finding.message and "合计2700套" in finding.message
    assert finding.where == ["一、工作开展情况", "（一）住房保障", "（二）城市更新"]


def test_a_qualified_total_allows_what_it_says() -> None:
    base = [Part("（一）住房保障", 2, "新开工保障性住房1200套。"),
            Part("（二）城市更新", 2, "新开工保障性住房1500套。")]
    assert check_document([Part("一、总体", 1, "新开工保障性住房超过2500套。"), *base]) == []
    assert check_document([Part("一、总体", 1, "新开工保障性住房约2700套。"), *base]) == []
    assert _kinds([Part("一、总体", 1, "新开工保障性住房超过3000套。"), *base]) == ["total"]


def test_a_total_under_another_heading_is_not_compared_with_these_parts() -> None:
    parts = [Part("一、住房保障", 1, "新开工保障性住房3000套。"),
             Part("二、城市更新", 1, "其他工作。"),
             Part("（一）老旧小区", 2, "完成老旧小区改造120个。")]
    assert check_document(parts) == []


def test_findings_name_a_long_heading_by_its_first_clause_not_mid_phrase() -> None:
    parts = [Part("一、工作开展情况", 1, ""),
             Part("（一）贯穿“全面从严”，党的建设全面加强", 2, "新开工保障性住房1200套。"),
             Part("（二）深化“改革提效”，发展活力逐步显现", 2, "新开工保障性住房1300套。")]
    [finding] = check_document(parts)
    assert "在（一）贯穿“全面从严”写作1200套，在（二）深化“改革提效”写作1300套" in finding.message
