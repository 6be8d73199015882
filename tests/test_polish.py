"""`drafting polish`: corpus phrasing from a real store, 规范提法 and house-style rules, LLM rewrites
through the real OpenAI-compatible stub, apply/diff helpers for the UI, and the CLI JSON."""

from __future__ import annotations

import io
import itertools
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from drafting.cli import main
from drafting.engines import OpenAIEngine
from drafting.errors import EngineError, InputError
from drafting.guard import extract_figures, same_value
from drafting.offline import GAP, OfflineEngine
from drafting.polish import (
    MAX_POLISH_CHARS,
    Suggestion,
    apply_suggestions,
    corpus_phrasing,
    polish,
    rule_suggestions,
    word_diff,
)
from drafting.records import Chunk, Hit
from drafting.settings import get_settings
from drafting.store import CorpusStore
from drafting.terms import check_terms
from tests.conftest import ingested_seeds
from tests.openai_stub import OpenAIStub, Reply

PROJECTS = "局系统谋划实施的15个基础设施项目全部开工建设，累计完成投资8.6亿元。"
PARAGRAPH = ("上半年，我们局搞好了老旧小区改造，完成120个，惠及居民3.2万户。认真落实党中央国务院决策部署。"
    + PROJECTS)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = ingested_seeds(tmp_path_factory, "polish")
    return settings


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"[0-9]+(?:\.[0-9]+)?", text))


def _hit(text: str, doc_id: str = "d1") -> Hit:
    chunk = Chunk(f"{doc_id}-0", doc_id, text, ["一、工作开展情况"], 0, 1, title="往年总结", year=2022)
    return Hit(chunk, 1.0)


# ---- offline, real store ------------------------------------------------------------------------
def test_offline_polish_gives_sourced_corpus_phrasing_and_rules(seeded: Any) -> None:
    result = polish(PARAGRAPH, seeded, engine=OfflineEngine())
    assert result.engine == "offline"
    assert any("offline" in n and "openai" in n for n in result.notes)
    assert [s.id for s in result.suggestions] == [f"s{n}" for n in range(1, len(result.suggestions) + 1)]
    for s in result.suggestions:
        assert PARAGRAPH[s.start : s.end] == s.original
    assert not [s for s in result.suggestions if s.kind == "llm"]

    corpus = [s for s in result.suggestions if s.kind == "corpus"]
    assert corpus
    docs = {d.doc_id: d for d in CorpusStore(seeded).documents()}
    store_texts = {doc_id: "" for doc_id in docs}
    rows = CorpusStore(seeded).collection.get(include=["documents", "metadatas"])  # type: ignore[list-item]
    for text, meta in zip(rows["documents"] or [], rows["metadatas"] or [], strict=True):
        store_texts[str(meta["doc_id"])] += text
    for s in corpus:
        assert s.source is not None and s.source["doc_id"] in docs
        assert s.source["title"] == docs[s.source["doc_id"]].title
        assert isinstance(s.source["heading_path"], list) and s.source["heading_path"]
        assert s.source["sentence"] in store_texts[s.source["doc_id"]]  # real phrasing from that document
        assert "*" not in s.suggestion
        assert _numbers(s.suggestion) <= _numbers(s.original)
        for f in extract_figures(s.suggestion):
            assert any(same_value(f, g) for g in extract_figures(s.original)), f.raw

    # the writer's figures go into the matching slots of the bureau's own sentence
    projects = next(s for s in corpus if s.original == PROJECTS)
    assert "15个基础设施项目" in projects.suggestion and "8.6亿元" in projects.suggestion
    assert GAP in projects.suggestion  # the corpus sentence's 占年度投资的*.*% has no figure from the writer
    assert projects.figures_changed == [] and any(f.startswith("待补充") for f in projects.flags)
    assert projects.source is not None and projects.source["title"] == "市住建局2023年上半年工作总结"

    rules = {(s.original, s.suggestion): s for s in result.suggestions if s.kind == "rule"}
    assert rules[("党中央国务院", "党中央、国务院")].severity == "提示"  # seen in real published reports
    assert ("我们局", "我局") in rules and ("搞好", "做好") in rules
    assert not result.needs_review


def test_empty_corpus_still_gives_rule_suggestions(settings: Any) -> None:
    result = polish("我们局搞好了住房保障这块，认真落实党中央国务院决策部署。", settings,
                    engine=OfflineEngine())
    assert {s.kind for s in result.suggestions} == {"rule"}
    assert any("drafting ingest" in n for n in result.notes)
    assert [(s.original, s.suggestion) for s in result.suggestions] == [
        ("我们局", "我局"), ("搞好", "做好"), ("这块", "方面"), ("党中央国务院", "党中央、国务院"),
    ]


@pytest.mark.parametrize("text", ["", "  \n\t "])
def test_empty_text_is_refused(settings: Any, text: str) -> None:
    with pytest.raises(InputError, match="空") as err:
        polish(text, settings, engine=OfflineEngine())
    assert "标准输入" in err.value.help_message


def test_huge_text_is_refused_with_size_and_limit(settings: Any) -> None:
    text = "住房" * (MAX_POLISH_CHARS // 2) + "。"
    with pytest.raises(InputError) as err:
        polish(text, settings, engine=OfflineEngine())
    assert str(len(text)) in err.value.help_message and str(MAX_POLISH_CHARS) in err.value.help_message


# ---- corpus phrasing, no store ------------------------------------------------------------------
def test_corpus_numbers_never_leak_and_changes_are_flagged() -> None:
    past = "全市改造城镇老旧小区137个，完成投资8.5亿元，2022年起连续四年获评全省先进，位列第12。"
    original = "全市改造城镇老旧小区120个，完成投资9亿元，获评全省先进，位列前列。"
    s = corpus_phrasing(original, [_hit(past)], start=5)
    assert s is not None and (s.start, s.end) == (5, 5 + len(original))
    assert s.suggestion == (f"全市改造城镇老旧小区120个，完成投资9亿元，"
                            f"{GAP}年起连续{GAP}年获评全省先进，位列第{GAP}。")
    assert s.figures_changed == [] and s.source == {
        "doc_id": "d1", "title": "往年总结", "heading_path": ["一、工作开展情况"], "year": 2022,
        "sentence": past,
    }
    # a figure that counts something else is not moved into the slot, and a phrasing that would
    # drop the writer's 30个 is not offered at all
    other = corpus_phrasing("全市新建城市公园12个，改造老旧小区30个。",
                            [_hit("全市新建口袋公园*个，新增停车泊位*个。")])
    assert other is None


def test_corpus_sentence_with_a_wrong_formulation_is_not_offered() -> None:
    original = "始终同党中央保持高度一致，坚决贯彻落实各项决策部署。"
    bad = _hit("始终同以习近平总书记为核心的党中央保持高度一致，坚决贯彻落实决策部署。")
    assert check_terms(bad.chunk.text)  # the past report itself has the 必错 form
    assert corpus_phrasing(original, [bad]) is None
    good = _hit("始终同以习近平同志为核心的党中央保持高度一致，坚决贯彻落实决策部署。")
    found = corpus_phrasing(original, [bad, good])
    assert found is not None and found.suggestion == good.chunk.text and found.flags == []


@pytest.mark.parametrize(
    ("text", "fixed"),
    [
        ("我们局搞好了老百姓的事。", "我局做好了群众的事。"),
        ("咱们马上整改，所以进度差不多完成了。", "我们尽快整改，因此进度基本完成了。"),
        ("住房保障这块，大概120户，等等。", "住房保障方面，约120户，等。"),
        ("环境越来越好，但监管不太到位。", "环境持续向好，但监管不够到位。"),
        # set phrases kept
        ("坚持马上就办，之所以如此，是因为群众。", "坚持马上就办，之所以如此，是因为群众。"),
    ],
)
def test_house_style_table(text: str, fixed: str) -> None:
    found = rule_suggestions(text)
    for n, s in enumerate(found):
        s.id = f"r{n}"
        assert s.figures_changed == [] and s.terms == []
    assert apply_suggestions(text, found, [s.id for s in found]) == fixed




# ---- apply / diff -------------------------------------------------------------------------------
def test_apply_suggestions_subsets_and_refusals(settings: Any) -> None:
    text = "我们局搞好了工作，认真落实党中央国务院决策部署。"
    result = polish(text, settings, engine=OfflineEngine())
    ids = {s.suggestion: s.id for s in result.suggestions}
    assert set(ids) == {"我局", "做好", "党中央、国务院"}
    assert apply_suggestions(text, result.suggestions, []) == text
    assert (apply_suggestions(text, result.suggestions, list(ids.values()))
        == "我局做好了工作，认真落实党中央、国务院决策部署。")
    assert (apply_suggestions(text, result.suggestions, [ids["党中央、国务院"]])
        == "我们局搞好了工作，认真落实党中央、国务院决策部署。")
    assert (apply_suggestions(text, result.suggestions, [ids["做好"], ids["我局"]])
        == "我局做好了工作，认真落实党中央国务院决策部署。")

    whole = Suggestion("corpus", 0, 9, text[:9], "我局扎实做好各项工作，", "x", id="c1")
    with pytest.raises(InputError, match="同一处"):
        apply_suggestions(text, [*result.suggestions, whole], [ids["我局"], "c1"])
    assert apply_suggestions(text, [*result.suggestions, whole],
                             ["c1"]).startswith("我局扎实做好各项工作，认真")
    with pytest.raises(InputError, match="找不到建议"):
        apply_suggestions(text, result.suggestions, ["s99"])
    with pytest.raises(InputError, match="已改动"):
        apply_suggestions("他们" + text, result.suggestions, [ids["我局"]])


def test_word_diff_is_word_level() -> None:
    assert word_diff("完成老旧小区改造120个", "完成老旧小区改造121个") == [
        ("equal", "完成老旧小区改造"), ("delete", "120"), ("insert", "121"), ("equal", "个"),
    ]
    assert (word_diff("搞好住房保障", "做好住房保障")
        == [("delete", "搞好"), ("insert", "做好"), ("equal", "住房保障")])
    assert word_diff("", "") == []


_TEXT = st.text(alphabet=st.sampled_from(list("住房保障城市更新老旧小区改造完成新增我局搞做好，。、；"
                                              "“”0123456789.% \n万个亿元a")),
                max_size=40)


@hsettings(max_examples=150, deadline=None)
@given(_TEXT, _TEXT)
def test_word_diff_round_trips(a: str, b: str) -> None:
    ops = word_diff(a, b)
    assert "".join(t for op, t in ops if op != "insert") == a
    assert "".join(t for op, t in ops if op != "delete") == b
    assert all(t for _op, t in ops) and all(x[0] != y[0] for x, y in itertools.pairwise(ops))


# ---- llm, real HTTP stub ------------------------------------------------------------------------
def _llm(seeded: Any, stub: OpenAIStub) -> Any:
    return get_settings(store=seeded.store, llm_base_url=stub.base_url, llm_model="stub", llm_retries=0,
                        llm_read_timeout=2.0)


def test_llm_rewrites_per_paragraph_and_flags_changed_figures(seeded: Any, stub: OpenAIStub) -> None:
    first = "老旧小区改造完成120个，惠及居民3.2万户。"
    second = "新增公共停车泊位1.2万个，停车难问题有所缓解。"
    text = f"{first}\n{second}"
    stub.enqueue(Reply(text="扎实推进老旧小区改造，完成121个，惠及居民3.2万户。"))  # changes a figure
    stub.enqueue(Reply(text="改写：新增公共停车泊位1.2万个，群众停车难问题有效缓解。"))  # keeps them
    settings = _llm(seeded, stub)
    result = polish(text, settings, engine=OpenAIEngine(settings))
    assert result.engine == "openai" and not any("offline" in n for n in result.notes)
    llm = [s for s in result.suggestions if s.kind == "llm"]
    # the rewrite that turns the writer's 120个 into 121个 is not offered; the note says so
    assert [(s.start, s.end, s.original) for s in llm] == [(len(first) + 1, len(text), second)]
    assert any("改动你写的数字" in n for n in result.notes)
    assert llm[0].suggestion == "新增公共停车泊位1.2万个，群众停车难问题有效缓解。"  # label stripped
    assert llm[0].figures_changed == [] and llm[0].flags == [] and llm[0].source == {"engine": "openai"}
    chats = [r["body"] for r in stub.requests if r["path"].endswith("/chat/completions")]
    assert len(chats) == 2
    user = chats[0]["messages"][1]["content"]
    assert f"<<<原文开始>>>\n{first}\n<<<原文结束>>>" in user and "<<<参考材料1开始" in user
    assert second not in user
    accepted = apply_suggestions(text, result.suggestions, [llm[0].id])
    assert accepted == f"{first}\n新增公共停车泊位1.2万个，群众停车难问题有效缓解。"


def test_llm_failure_raises_engine_error_in_chinese(seeded: Any, stub: OpenAIStub) -> None:
    stub.enqueue(Reply(status=500))
    settings = _llm(seeded, stub)
    with pytest.raises(EngineError) as err:
        polish("老旧小区改造完成120个，惠及居民3.2万户。", settings, engine=OpenAIEngine(settings))
    assert "模型服务" in err.value.help_message and "offline" in err.value.help_message


# ---- CLI ----------------------------------------------------------------------------------------
def test_cli_polish_json_from_stdin(seeded: Any, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DRAFTING_STORE", str(seeded.store))
    monkeypatch.delenv("DRAFTING_LLM_BASE_URL", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(PARAGRAPH))
    code = main(["polish", "-", "--engine", "offline", "--json"])
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    assert code == 0  # 党中央国务院 is a 提示 (it is in real published reports), not a 必错
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert set(out) == {"suggestions", "notes", "engine", "corpus"} and out["engine"] == "offline"
    assert out["suggestions"] and all(isinstance(n, str) for n in out["notes"])
    kinds = set()
    for s in out["suggestions"]:
        for key, typ in [("id", str), ("kind", str), ("start", int), ("end", int), ("original", str),
                         ("suggestion", str), ("reason", str), ("flags", list), ("figures_changed", list),
                         ("terms", list)]:
            assert isinstance(s[key], typ), key
        assert PARAGRAPH[s["start"] : s["end"]] == s["original"] and s["suggestion"] != s["original"]
        assert all(isinstance(f, str) for f in s["flags"])
        kinds.add(s["kind"])
        if s["kind"] == "corpus":
            assert set(s["source"]) >= {"doc_id", "title", "heading_path"}
            assert isinstance(s["source"]["heading_path"], list)
        else:
            assert isinstance(s["source"], dict)
    assert kinds == {"rule", "corpus"}
    terms = next(s for s in out["suggestions"] if s["original"] == "党中央国务院")
    assert terms["suggestion"] == "党中央、国务院" and terms["severity"] == "提示" and terms["kind"] == "rule"

    monkeypatch.setattr("sys.stdin", io.StringIO("认真贯彻习总书记重要指示精神。"))
    assert main(["polish", "-", "--engine", "offline", "--json"]) == 1  # a 必错 formulation
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO(PROJECTS))
    assert main(["polish", "-", "--engine", "offline"]) == 0
    printed = capsys.readouterr().out
    assert "往年表述" in printed and "出处：市住建局2023年上半年工作总结" in printed and "待补充" in printed

    monkeypatch.setattr("sys.stdin", io.StringIO("   "))
    assert main(["polish", "-", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "空" in captured.err


# ---- suggestion cards: where each one is ---------------------------------------------------------
def test_two_identical_cards_are_told_apart_by_their_context(seeded: Any, tmp_path: Any) -> None:
    from drafting.polish import context
    from drafting.ui.common import AppContext
    from drafting.ui.polish_tab import PolishTab

    tab = PolishTab(AppContext.create(seeded.model_copy(update={"data_dir": tmp_path / "data"})),
                    [("offline 离线组稿", "offline")], "offline")
    text = "今年完成老旧小区改造120个，老百姓很满意。\n加装电梯36部，解决了老百姓上下楼难题，比去年多了不少。"
    state, choices, cards, _result, _diff, _notes = tab.suggest(text, "offline")
    same = [s for s in state["suggestions"] if s.original == "老百姓"]
    assert len(same) == 2 and {s.suggestion for s in same} == {"群众"}
    first, second = (context(text, s) for s in same)
    assert first != second
    assert first == ("…完成老旧小区改造120个，", "老百姓", "很满意。")  # whole words, never half a figure
    assert second == ("加装电梯36部，解决了", "老百姓", "上下楼难题，比去年多了不少…")
    # each card shows its own surroundings, with the changed words marked, and where it is
    for s, (before, original, after) in zip(same, (first, second), strict=True):
        card = cards.split(f'id="sugg-{s.id}"')[1].split('id="sugg-')[0]
        assert f'原文：{before}<mark class="ctx-hit">{original}</mark>{after}' in card
    assert "（第1段第16字起）" in cards and "（第2段第12字起）" in cards
    labels = {v: label for label, v in choices["choices"]}
    assert labels[same[0].id] != labels[same[1].id]
    assert "「老百姓」很满意" in labels[same[0].id] and "「老百姓」上下楼" in labels[same[1].id]
    # still there after a tick
    _acc, cards2, result, _d, _n, _st = tab.apply([same[1].id], state)
    assert result.count("群众") == 1 and result.index("群众") > result.index("\n")
    assert cards2.count('class="ctx-hit"') == len(state["suggestions"]) and "已采纳" in cards2


def test_context_of_a_long_original_is_cut_in_the_middle() -> None:
    from drafting.polish import Suggestion, context

    text = "一、总体情况\n" + "甲" * 40 + "。后文"
    s = Suggestion("llm", text.index("甲"), text.index("。") + 1, "甲" * 40 + "。", "乙。", "x")
    before, original, after = context(text, s)
    assert before == "" and after == "后文"  # the heading line above is another paragraph
    assert original == "甲" * 12 + "…" + "甲" * 11 + "。"
