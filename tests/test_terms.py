"""The 规范提法 checker: lexicon validity, seed reports, positions, overlaps, false positives."""

from __future__ import annotations

import itertools
import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest

from drafting.errors import ConfigError
from drafting.terms import SEVERITIES, TermFinding, TermRule, check_terms, load_lexicon
from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "corpus"
PUBLIC = SHARED / "corpus" / "public"

SEED_2022 = "市住建局2022年文明创建工作总结.txt"
SEED_2023 = "市住建局2023年上半年工作总结.txt"
SEED_PARTY = "市住建局市直机关党建工作督导推进会汇报发言.txt"
SEED_YOUTH = "市住建局机关青年干部主题教育开展情况汇报.txt"
SEED_CIVIL = "市住建局精神文明建设工作情况汇报.txt"

# Every finding the shipped lexicon makes on the five seed reports, read and judged one by one.
# (file, severity, found, suggest, a longer stretch of the report around the finding)
SEED_FINDINGS = [
    # The real errors (必错).
    (
        SEED_2023,
        "必错",
        "以习近平总书记为核心的党中央",
        "以习近平同志为核心的党中央",
        "始终同以习近平总书记为核心的党中央保持高度一致",
    ),
    (SEED_2023, "必错", "中央环保督查", "中央生态环境保护督察", "中央环保督查反馈问题"),
    (
        SEED_PARTY,
        "必错",
        "习近平新时代中国特色思想",
        "习近平新时代中国特色社会主义思想",
        "学习贯彻习近平新时代中国特色思想主题教育",
    ),
    (
        SEED_PARTY,
        "必错",
        "中央办公局",
        "中共中央办公厅",
        "按照中央办公局《关于在全党大兴调查研究的工作方案》",
    ),
    (SEED_PARTY, "必错", "抒困", "纾困", "联系群众、抒困解难、释放压力"),
    (SEED_2022, "必错", "截止", "截至", "截止目前，全市已开工"),
    # Probable errors (疑似).
    (SEED_2023, "疑似", "一议一事", "一事一议", "坚持一议一事，破题攻坚"),
    (SEED_YOUTH, "疑似", "反应", "反映", "是群众反应最集中的问题"),
    (SEED_YOUTH, "疑似", "的", "得", "主题教育开展的怎么样"),
    # Style advice (提示).
    (SEED_CIVIL, "提示", "房住不炒", "房子是用来住的、不是用来炒的", "坚持“房住不炒”定位"),
    *[(SEED_2022, "提示", "》、《", "》《", "实施方案》、《")] * 4,
    *[(SEED_2022, "提示", "”、“", "”“", "”、“")] * 2,
]


def _seed(name: str) -> str:
    return (SEEDS / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def lexicon() -> list[TermRule]:
    return load_lexicon()


@pytest.fixture(scope="module")
def seed_findings(lexicon: list[TermRule]) -> dict[str, list[TermFinding]]:
    names = sorted(p.name for p in SEEDS.glob("*.txt"))
    assert len(names) == 5, names
    return {name: check_terms(_seed(name), lexicon) for name in names}


def _rule_by_pattern(lexicon: list[TermRule], pattern: str) -> TermRule:
    (rule,) = [r for r in lexicon if r.pattern == pattern]
    return rule


# ---- the seed reports -------------------------------------------------------------------------


@pytest.mark.parametrize("name,severity,found,suggest,context", [f for f in SEED_FINDINGS if f[1] != "提示"])
def test_real_seed_errors_are_caught(
    seed_findings: dict[str, list[TermFinding]],
    name: str,
    severity: str,
    found: str,
    suggest: str,
    context: str,
) -> None:
    text = _seed(name)
    hits = [f for f in seed_findings[name] if f.found == found and f.severity == severity]
    assert hits, f"{found!r} not found in {name}"
    assert all(f.suggest == suggest for f in hits)
    # The finding sits inside the context quoted from the report.
    at = text.index(context)
    assert any(at <= f.start and f.end <= at + len(context) for f in hits)
    assert all(text[f.start : f.end] == found for f in hits)


def test_seed_reports_have_no_other_findings(seed_findings: dict[str, list[TermFinding]]) -> None:
    got = Counter((name, f.severity, f.found, f.suggest) for name, fs in seed_findings.items() for f in fs)
    expected = Counter((name, sev, found, suggest) for name, sev, found, suggest, _ in SEED_FINDINGS)
    assert got == expected


def test_seed_must_fix_findings_are_exactly_the_real_errors(
    seed_findings: dict[str, list[TermFinding]],
) -> None:
    must = sorted((name, f.found) for name, fs in seed_findings.items() for f in fs if f.severity == "必错")
    assert must == sorted(
        [
            (SEED_2022, "截止"),
            (SEED_2023, "中央环保督查"),
            (SEED_2023, "以习近平总书记为核心的党中央"),
            (SEED_PARTY, "中央办公局"),
            (SEED_PARTY, "习近平新时代中国特色思想"),
            (SEED_PARTY, "抒困"),
        ]
    )
    assert not any(f.severity == "必错" for f in seed_findings[SEED_CIVIL] + seed_findings[SEED_YOUTH])


def test_seed_positions_are_exact_sorted_and_disjoint(seed_findings: dict[str, list[TermFinding]]) -> None:
    for name, findings in seed_findings.items():
        text = _seed(name)
        assert findings, name
        for f in findings:
            assert text[f.start : f.end] == f.found
        for a, b in itertools.pairwise(findings):
            assert a.start <= b.start
            assert a.end <= b.start, (a, b)


def test_fixing_the_seed_errors_leaves_no_must_fix(seed_findings: dict[str, list[TermFinding]]) -> None:
    for name, findings in seed_findings.items():
        text = _seed(name)
        for f in sorted(findings, key=lambda f: f.start, reverse=True):
            if f.severity == "必错":
                text = text[: f.start] + f.suggest + text[f.end :]
        assert not [f for f in check_terms(text) if f.severity == "必错"], name


# ---- every rule ---------------------------------------------------------------------------------


def test_lexicon_size_and_severities(lexicon: list[TermRule]) -> None:
    assert 80 <= len(lexicon) <= 160
    counts = Counter(r.severity for r in lexicon)
    assert set(counts) == set(SEVERITIES)
    assert counts["必错"] >= 40
    assert all(r.reason and r.source and r.suggest for r in lexicon)


def test_every_rule_has_an_example(lexicon: list[TermRule]) -> None:
    missing = [r.line for r in lexicon if not r.example]
    assert not missing, f"rules without example at lines {missing}"


def test_every_suggest_does_not_trigger_its_own_rule(lexicon: list[TermRule]) -> None:
    bad = [(r.line, r.suggest) for r in lexicon if check_terms(r.suggest, [r])]
    assert not bad


def test_every_example_fires_and_its_fix_clears_it(lexicon: list[TermRule]) -> None:
    problems = []
    for rule in lexicon:
        assert rule.example
        hits = check_terms(rule.example, [rule])
        if len(hits) != 1:
            problems.append((rule.line, "fires", len(hits)))
            continue
        (hit,) = hits
        assert rule.example[hit.start : hit.end] == hit.found
        fixed = rule.example[: hit.start] + rule.suggest + rule.example[hit.end :]
        if check_terms(fixed, [rule]):
            problems.append((rule.line, "still fires after fix", fixed))
    assert not problems


def test_every_example_is_otherwise_clean(lexicon: list[TermRule]) -> None:
    """With the whole lexicon, the example's error is reported and nothing else that must be fixed."""
    problems = []
    for rule in lexicon:
        assert rule.example
        findings = check_terms(rule.example, lexicon)
        own = rule.matches(rule.example)
        covered = [f for f in findings if any(f.start <= s < f.end or s <= f.start < e for s, e in own)]
        if not covered:
            problems.append((rule.line, "not reported", rule.example))
        others = [f for f in findings if f not in covered and f.severity != "提示"]
        if others:
            problems.append((rule.line, "other findings", [o.found for o in others]))
    assert not problems


def test_regex_rules_compile_to_their_pattern(lexicon: list[TermRule]) -> None:
    for rule in lexicon:
        expected = rule.pattern if rule.regex else re.escape(rule.pattern)
        assert rule.compiled.pattern == expected


# ---- behaviour ------------------------------------------------------------------------------------


def test_finding_json_shape() -> None:
    (f,) = check_terms("认真落实党中央国务院决策部署。")
    assert f.to_json() == {
        "found": "党中央国务院",
        "suggest": "党中央、国务院",
        "severity": "提示",
        "reason": f.reason,
        "start": 4,
        "end": 10,
    }
    assert f.reason
    json.dumps(f.to_json(), ensure_ascii=False)


def test_positions_in_mixed_text() -> None:
    text = "一是坚持以新时代中国特色社会主义思想为指导；\n二是截止目前完成任务,再接再励。"
    findings = check_terms(text)
    assert [(f.found, f.severity) for f in findings] == [
        ("新时代中国特色社会主义思想", "疑似"),
        ("截止", "必错"),
        (",", "提示"),
        ("再接再励", "必错"),
    ]
    for f in findings:
        assert text[f.start : f.end] == f.found
    assert findings[0].start == text.index("新时代")


def test_empty_text() -> None:
    assert check_terms("") == []


def test_overlap_prefers_must_fix_over_probable() -> None:
    # 必错 (title inside the name) and 疑似 (name without 习近平) overlap: only 必错 remains.
    text = "深入学习习近平总书记新时代中国特色社会主义思想。"
    findings = check_terms(text)
    assert [(f.found, f.severity) for f in findings] == [("习近平总书记新时代中国特色社会主义思想", "必错")]
    # 必错 with quotes and 疑似 without them.
    findings = check_terms("忠诚拥护“两个确定”。")
    assert [(f.found, f.severity) for f in findings] == [("“两个确定”", "必错")]


def test_context_not_skips_the_correct_full_form() -> None:
    assert check_terms("坚持以习近平新时代中国特色社会主义思想为指导。") == []
    assert [f.found for f in check_terms("坚持以新时代中国特色社会主义思想为指导。")] == [
        "新时代中国特色社会主义思想"
    ]


def _write(tmp_path: Path, lines: list[str], name: str = "terms.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rule(pattern: str, severity: str = "提示", suggest: str = "X", **extra: object) -> str:
    obj = {
        "pattern": pattern,
        "regex": False,
        "suggest": suggest,
        "severity": severity,
        "reason": "r",
        "source": "s",
    }
    obj.update(extra)
    return json.dumps(obj, ensure_ascii=False)


def test_overlap_resolution_order(tmp_path: Path) -> None:
    def run(rules: list[str], text: str, name: str) -> list[tuple[str, int, int]]:
        lex = load_lexicon(_write(tmp_path, rules, name))
        return [(f.found, f.start, f.end) for f in check_terms(text, lex)]

    # A stronger severity beats a longer match: 必错 > 疑似 > 提示.
    assert run([_rule("甲乙丙", "提示"), _rule("乙", "必错")], "甲乙丙", "a.jsonl") == [("乙", 1, 2)]
    assert run([_rule("甲乙丙", "疑似"), _rule("乙", "必错")], "甲乙丙", "b.jsonl") == [("乙", 1, 2)]
    assert run([_rule("甲乙丙", "提示"), _rule("乙", "疑似")], "甲乙丙", "c.jsonl") == [("乙", 1, 2)]
    # Same severity: the longer match wins, whatever the rule order.
    assert run([_rule("甲乙", "疑似"), _rule("甲乙丙", "疑似")], "甲乙丙", "d.jsonl") == [("甲乙丙", 0, 3)]
    # Same severity and length: the earlier match wins.
    assert run([_rule("乙丙", "疑似"), _rule("甲乙", "疑似")], "甲乙丙", "e.jsonl") == [("甲乙", 0, 2)]
    # A candidate that lost does not block its neighbours; touching findings are both kept.
    rules = [
        _rule("甲乙", "提示"),
        _rule("甲乙丙", "提示"),
        _rule("丙丁", "疑似"),
        _rule("丁", "必错"),
        _rule("戊", "提示"),
    ]
    assert run(rules, "甲乙丙丁戊", "f.jsonl") == [("甲乙丙", 0, 3), ("丁", 3, 4), ("戊", 4, 5)]
    # The same text twice gives two findings.
    assert run([_rule("甲乙", "提示")], "甲乙，甲乙", "g.jsonl") == [("甲乙", 0, 2), ("甲乙", 3, 5)]


def test_context_not_before_after_and_around(tmp_path: Path) -> None:
    lex = load_lexicon(
        _write(tmp_path, [_rule("国务院", suggest="Y", context_not=["党中央、", "办公厅", "中国国务院x"])])
    )
    assert check_terms("党中央、国务院", lex) == []
    assert check_terms("国务院办公厅", lex) == []
    assert check_terms("中国国务院x", lex) == []
    assert [f.start for f in check_terms("省政府、国务院", lex)] == [4]


@pytest.mark.parametrize(
    "bad_line,message",
    [
        ('{"pattern": "甲", "regex": false', "不是合法的 JSON"),
        ('["甲"]', "JSON 对象"),
        (_rule("甲").replace('"source": "s"', '"sourse": "s"'), "未知字段 sourse"),
        (
            json.dumps({"pattern": "甲", "regex": False, "suggest": "乙", "severity": "必错", "reason": "r"}),
            "缺少字段 source",
        ),
        (_rule("甲").replace('"regex": false', '"regex": "no"'), "regex 的类型"),
        (_rule("甲", severity="错误"), "severity"),
        (_rule("甲", suggest=" "), "suggest 不能为空"),
        (_rule("甲[", regex=True), "正则表达式无法编译"),
        (_rule("甲?", regex=True), "匹配空字符串"),
        (_rule("甲", suggest="甲乙"), "本身会触发"),
        (_rule("甲", example="乙丙"), "没有触发"),
        (_rule("甲", context_not="乙"), "context_not"),
        (_rule("已有"), "与第1行的 pattern 重复"),
    ],
)
def test_load_lexicon_names_the_bad_line(tmp_path: Path, bad_line: str, message: str) -> None:
    path = _write(tmp_path, [_rule("已有"), "", bad_line, _rule("之后")])
    with pytest.raises(ConfigError) as info:
        load_lexicon(path)
    assert "第3行" in info.value.help_message
    assert message in info.value.help_message
    assert path.name in info.value.help_message


def test_load_lexicon_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_lexicon(tmp_path / "none.jsonl")


def test_load_lexicon_is_cached_until_the_file_changes(tmp_path: Path) -> None:
    path = _write(tmp_path, [_rule("甲")])
    first = load_lexicon(path)
    assert load_lexicon(path)[0] is first[0]
    path.write_text(_rule("甲") + "\n" + _rule("乙") + "\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))
    assert [r.pattern for r in load_lexicon(path)] == ["甲", "乙"]


def test_default_lexicon_is_used_when_none_given() -> None:
    assert [f.found for f in check_terms("再接再励")] == ["再接再励"]


# ---- correct official wording produces nothing -------------------------------------------------

CORRECT = [
    (
        "高举中国特色社会主义伟大旗帜，全面贯彻习近平新时代中国特色社会主义思想，弘扬伟大建党精神，自信自强、守正创新，"
        "踔厉奋发、勇毅前行，为全面建设社会主义现代化国家、全面推进中华民族伟大复兴而团结奋斗。"
    ),
    "在以习近平同志为核心的党中央坚强领导下，全面贯彻落实党的二十大和二十届二中、三中全会精神。",
    "紧密团结在以习近平同志为核心的党中央周围，始终在思想上政治上行动上同以习近平同志为核心的党中央保持高度一致。",
    "深刻领悟“两个确立”的决定性意义，增强“四个意识”、坚定“四个自信”、做到“两个维护”。",
    "坚决维护习近平总书记党中央的核心、全党的核心地位，坚决维护党中央权威和集中统一领导。",
    "确立习近平同志党中央的核心、全党的核心地位，确立习近平新时代中国特色社会主义思想的指导地位。",
    "牢固树立政治意识、大局意识、核心意识、看齐意识，坚定道路自信、理论自信、制度自信、文化自信。",
    "认真贯彻落实党中央、国务院决策部署和省委、省政府、市委、市政府工作要求。",
    "完整、准确、全面贯彻新发展理念，加快构建以国内大循环为主体、国内国际双循环相互促进的新发展格局，着力推动高质量发展。",
    "贯彻创新、协调、绿色、开放、共享的新发展理念。",
    "高质量发展是全面建设社会主义现代化国家的首要任务。",
    (
        "中国式现代化是人口规模巨大的现代化，是全体人民共同富裕的现代化，是物质文明和精神文明相协调的现代化，"
        "是人与自然和谐共生的现代化，是走和平发展道路的现代化。"
    ),
    "发展全过程人民民主，保障人民当家作主。",
    "坚持房子是用来住的、不是用来炒的定位，加快建立多主体供给、多渠道保障、租购并举的住房制度，加快构建房地产发展新模式。",
    "坚持人民城市人民建、人民城市为人民，推进以人为核心的新型城镇化，实施城市更新行动，打造宜居、韧性、智慧城市。",
    "深入实施以人为本的新型城镇化战略五年行动计划。",
    "按照住房和城乡建设部（住房城乡建设部）统一部署，市住建部门扎实做好保交房工作，建设好房子。",
    "坚持稳中求进工作总基调，统筹发展和安全，积极稳妥推进碳达峰碳中和。",
    "统筹推进“五位一体”总体布局、协调推进“四个全面”战略布局。",
    "一体推进不敢腐、不能腐、不想腐，不断提高政治判断力、政治领悟力、政治执行力。",
    (
        "不断增强人民群众获得感、幸福感、安全感，积极培育和践行富强、民主、文明、和谐，自由、平等、公正、法治，"
        "爱国、敬业、诚信、友善的社会主义核心价值观。"
    ),
    "深入学习习近平经济思想、习近平生态文明思想、习近平法治思想，认真学习总书记重要讲话精神。",
    "深入推动黄河流域生态保护和高质量发展，牢固树立和践行绿水青山就是金山银山的理念，推动中华优秀传统文化创造性转化。",
    "中央生态环境保护督察反馈问题已全部整改；按照中共中央办公厅印发的《关于在全党大兴调查研究的工作方案》开展调研。",
    "严格执行《党政机关公文处理工作条例》，印发《实施方案》《考核办法》，开展“周检查”“月通报”。",
    "截至目前，全市已开工改造老旧小区*个，申报截止时间为6月30日，截止到*月底完成投资*亿元。",
    "市委作出重要部署，各项工作按部就班推进，我们将再接再厉、一如既往、久久为功，心无旁骛抓落实。",
    "二〇二三年，城市交通迅速发展；在严峻工作形势下，按装配式建筑标准建设，建立问题台账，个人材料齐全。",
    "既使企业受益，又使群众满意；即使任务再重，也要按期完成。",
    "及时修复盖板，发布署名文章，通过抽签定标，养成良好习惯彻底改变作风，严禁存放易燃汽油，招开发企业参与改造。",
    "多做为民服务的好事，着力解决群众反映强烈的问题，对群众反应强烈的事项及时回应。",
    "缴存住房公积金，建设保障性租赁住房，组织竣工验收，开展燃气安全专项整治，规范工程勘察设计。",
    "部署实施城镇老旧小区改造，帮助企业纾困解难，坚持一事一议，渡过难关，亟待解决的问题逐一销号。",
    "学习贯彻习近平新时代中国特色社会主义思想主题教育开展得怎么样，要由群众来评判。",
    "坚持以国内大循环为主体，推进全面从严治党，落实中央八项规定精神。",
]


@pytest.mark.parametrize("sentence", CORRECT)
def test_correct_official_wording_has_no_findings(sentence: str) -> None:
    assert check_terms(sentence) == []


# ---- real government reports: no false alarms on recent provincial texts -------------------------


def test_recent_provincial_work_reports_have_no_errors() -> None:
    if not PUBLIC.is_dir():
        pytest.skip("shared public corpus not present")
    reports = []
    for path in sorted(PUBLIC.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        if re.match(r"2026年\S*(省|市|自治区)\S*政府工作报告", text.splitlines()[0]):
            reports.append((path.name, text))
    if len(reports) < 10:
        pytest.skip("too few 2026 provincial reports in the shared corpus")
    flagged = [
        (name, f.severity, f.found)
        for name, text in reports
        for f in check_terms(text)
        if f.severity != "提示"
    ]
    assert flagged == []
