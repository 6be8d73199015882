"""Colloquial → 公文 rules (drafting/data/colloquial.jsonl): what they flag, what they must not."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from drafting.colloquial import colloquial_findings, load_rules
from drafting.errors import ConfigError
from drafting.loaders import load_file
from drafting.offline import GAP
from drafting.polish import apply_suggestions, keeps_figures, rule_suggestions, safe_ids
from drafting.sentences import split_sentences
from drafting.terms import check_terms
from tests.conftest import PUBLIC, SEEDS

CASES = [json.loads(line)
         for line in (Path(__file__).parent / "data" / "colloquial_cases.jsonl").open(encoding="utf-8")]


def _sentences(folder: Path) -> list[str]:
    out = []
    for path in sorted(folder.glob("*.txt")):
        for line in load_file(path, max_bytes=50 * 1024 * 1024).text.splitlines():
            out.extend(s for s in split_sentences(line) if s.strip())
    return out


def test_every_rule_flags_its_example_with_a_clean_suggestion() -> None:
    rules = load_rules()
    assert len(rules) >= 60
    for rule in rules:
        m = rule.compiled.search(rule.example)
        assert m is not None, rule.line
        fixed = rule.example[: m.start()] + m.expand(rule.suggestion) + rule.example[m.end() :]
        assert rule.compiled.search(fixed) is None or fixed == rule.example, (rule.line, fixed)
        assert not [t for t in check_terms(fixed) if t.severity == "必错"], (rule.line, fixed)
        assert keeps_figures(rule.example, fixed), (rule.line, fixed)
        assert len(re.findall(r"[\u4e00-\u9fff]", rule.reason)) >= 8, rule.line


def test_the_case_corpus_is_large_enough() -> None:
    flagged = [c for c in CASES if c["flags"]]
    assert len(flagged) >= 100
    assert sum(len(c["flags"]) for c in flagged) >= 150
    assert len({f for c in CASES for f, _s in c["flags"]}) >= 60  # many different phrasings


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:12] for c in CASES])
def test_colloquial_cases(case: dict) -> None:
    found = [[f.found, f.suggest] for f in colloquial_findings(case["text"])]
    assert found == case["flags"]


@pytest.mark.parametrize("case", [c for c in CASES if c["flags"]], ids=lambda c: c["text"][:12])
def test_rule_suggestions_never_change_a_figure_and_gaps_are_flagged(case: dict) -> None:
    text = case["text"]
    found = rule_suggestions(text)
    for n, s in enumerate(found):
        s.id = f"r{n}"
        assert s.figures_changed == [] and keeps_figures(s.original, s.suggestion), s
    safe = safe_ids(found)
    for s in found:
        assert (GAP in s.suggestion) == (s.id not in safe)  # a 【待补充】 is never applied by 全部采纳
    fixed = apply_suggestions(text, found, [s.id for s in found])
    assert fixed != text and [f for f in colloquial_findings(fixed)
                              if (f.found, f.suggest) in found_pairs(case)] == []


def found_pairs(case: dict) -> set[tuple[str, str]]:
    return {(f, s) for f, s in case["flags"] if f != s}


def test_vague_quantities_ask_for_the_figure_instead_of_inventing_one() -> None:
    text = "今年改造老旧小区120个，比去年多了不少，投资比去年多了好几百万。"
    found = rule_suggestions(text)
    vague = [s for s in found if GAP in s.suggestion]
    assert [s.original for s in vague] == ["比去年多了不少", "比去年多了好几百万"]
    for s in vague:
        assert not any(ch.isdigit() for ch in s.suggestion)
        assert any(f.startswith("待补充") for f in s.flags)
    for n, s in enumerate(found):
        s.id = f"r{n}"
    fixed = apply_suggestions(text, found, [s.id for s in found])
    assert fixed == "今年改造老旧小区120个，较上年增加【待补充】，投资较上年增加【待补充】万元。"


def test_the_bureaus_own_documents_are_not_flagged() -> None:
    sentences = _sentences(SEEDS)
    assert len(sentences) > 200
    flagged = [(s, f.found) for s in sentences for f in colloquial_findings(s)]
    assert flagged == []


def test_public_reports_are_rarely_flagged() -> None:
    # the rate is recorded in docs/benchmarks.md; most flags are 搞好 and 等等 in reports of 2001–2016
    sentences = _sentences(PUBLIC)
    assert len(sentences) > 10_000
    flagged = [s for s in sentences if colloquial_findings(s)]
    assert len(flagged) / len(sentences) < 0.01


def test_a_bad_rules_file_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "colloquial.jsonl"
    good = json.dumps({"pattern": "搞好", "suggestion": "做好", "reason": "口语", "example": "要搞好服务。"},
                      ensure_ascii=False)
    bad.write_text(good + "\n" + json.dumps({"pattern": "弄好", "suggestion": "做好", "reason": "口语",
                                             "example": "做好服务。"},
                                            ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_rules(bad)
    assert "第2行" in err.value.help_message and "示例" in err.value.help_message
    bad.write_text(good.replace("搞好\"", "搞(好\"", 1) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="正则表达式"):
        load_rules(bad)
