"""``drafting eval``: each metric on hand-made inputs, an eval run over real cases with a real store,
own-document exclusion, the CLI JSON, and the offline composer's figure promise."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from drafting import evaluate as ev
from drafting.cli import main
from drafting.drafter import DraftRequest, draft, house_style
from drafting.engines import OpenAIEngine
from drafting.errors import InputError
from drafting.ingest import ingest
from drafting.offline import (
    OfflineEngine,
    clean_bullet,
    work_topic,
)
from drafting.settings import get_settings
from drafting.store import CorpusStore
from tests.conftest import PUBLIC, SEEDS, SHARED
from tests.openai_stub import OpenAIStub, Reply

CASES = SHARED / "eval" / "dev-cases.jsonl"
OWN_DOCS = ("044.txt", "046.txt")  # two 驻马店 reports: each case's own document plus one from the same body


def _dp_lcs(a: str, b: str) -> int:
    m = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            m[i + 1][j + 1] = m[i][j] + 1 if x == y else max(m[i][j + 1], m[i + 1][j])
    return m[-1][-1]


# ---- metrics on hand-made inputs ------------------------------------------------------------------
def test_numbers_are_plain_digit_runs() -> None:
    assert [v for _s, _e, v in ev.numbers("完成120个，增长08.50%，２０２３年")] == ["120", "8.5", "2023"]
    assert ev.numbers("一、城市更新。一是扎实推进，二是持续推进") == []  # ordinals are not digits


def test_figure_recall_full_partial_and_dropped() -> None:
    bullets = ["完成改造120个，惠及3.2万户", "增长8.5%"]
    assert ev.figure_recall(bullets, "一是改造完成120个，惠及居民3.2万户，增长8.5%。") == 1.0
    assert ev.figure_recall(bullets, "改造完成120个，增长8.5%。") == pytest.approx(2 / 3)  # fails the target
    assert ev.missing_numbers(bullets, "改造完成120个，增长8.5%。") == ["3.2"]
    assert ev.figure_recall(bullets, "扎实推进老旧小区改造。") == 0.0
    assert ev.figure_recall(["开展扬尘整治"], "任何文字") == 1.0


def test_unverified_counts_every_foreign_number() -> None:
    bullets = ["完成改造120个"]
    assert ev.extra_numbers(bullets, "一、城市更新\n一是完成改造120个。") == []
    extras = ev.extra_numbers(bullets, "2023年，完成改造120个，投资5.6亿元，其中5.6亿元为中央资金。")
    assert [v for _s, _e, v in extras] == ["2023", "5.6", "5.6"]  # fails the target: 3 per draft
    text = "1.扎实推进城市更新，完成改造120个"  # a heading or opener with Arabic digits counts
    assert [v for _s, _e, v in ev.extra_numbers(bullets, text)] == ["1"]


def test_guard_agrees_only_when_the_guard_flags_every_extra() -> None:
    provided = "完成改造120个"
    flagged = "完成改造120个，投资5.6亿元。"
    assert ev.guard_agrees(flagged, provided, ev.extra_numbers([provided], flagged))
    year = "2023年完成改造120个。"  # a year the writer did not give: the fact guard flags it too
    assert ev.guard_agrees(year, provided, ev.extra_numbers([provided], year))
    batch = "第3批完成改造120个。"  # an ordinal is no fact for the guard, but the eval counts the digits
    assert not ev.guard_agrees(batch, provided, ev.extra_numbers([provided], batch))
    assert ev.guard_agrees("完成改造120个。", provided, [])


def test_lcs_matches_dynamic_programming() -> None:
    import random

    rnd = random.Random(3)
    for _ in range(200):
        a = "".join(rnd.choice("城市更新改造，。12") for _ in range(rnd.randint(0, 40)))
        b = "".join(rnd.choice("城市更新改造，。12") for _ in range(rnd.randint(0, 40)))
        assert ev.lcs_len(a, b) == _dp_lcs(a, b)


def test_rouge_l_values() -> None:
    assert ev.rouge_l("城市更新", "城市更新") == 1.0
    assert ev.rouge_l("城市 更新\n", "城市更新") == 1.0  # whitespace ignored
    assert ev.rouge_l("城市", "城市更新") == pytest.approx(2 * 2 / 6)
    assert ev.rouge_l("党建", "城市更新") == 0.0
    assert ev.rouge_l("", "城市更新") == 0.0
    assert ev.baseline_text(["甲1", " 乙2 ", ""]) == "甲1；乙2"


def test_draft_body_drops_only_the_echoed_heading() -> None:
    assert ev.draft_body("（一）城市更新\n一是完成120个。", "（一）城市更新") == ("一是完成120个。", True)
    assert ev.draft_body("一、城市更新\n正文。", "城市更新") == ("正文。", True)
    assert ev.draft_body("一、住房保障\n正文。", "城市更新") == ("一、住房保障\n正文。", False)


def test_load_cases_errors_are_chinese(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="找不到评测文件"):
        ev.load_cases(tmp_path / "none.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "bullets": "not a list", "reference": "r"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="第1行"):
        ev.load_cases(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match="空"):
        ev.load_cases(empty)


# ---- the offline composer's promise ----------------------------------------------------------------
def test_bullet_cleaning_keeps_leading_decimals() -> None:
    assert clean_bullet("89.4%的公园实现24小时开放") == "89.4%的公园实现24小时开放"
    assert clean_bullet("1. 新增泊位1.2万个") == "新增泊位1.2万个"


def test_work_topic() -> None:
    assert work_topic("（二）城市更新") == "城市更新"
    assert work_topic("(三)基础设施建设得到加强") == ""


# ---- real store ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Seeds plus two 驻马店 reports, ingested for real."""
    root = tmp_path_factory.mktemp("eval")
    shutil.copytree(SEEDS, root / "corpus")
    public = root / "public"
    public.mkdir()
    for name in OWN_DOCS:
        shutil.copy(PUBLIC / name, public / name)
    rows = [line for line in (PUBLIC / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
            if json.loads(line)["file"] in OWN_DOCS]
    (public / "manifest.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    settings = get_settings(store=root / "store")
    ingest([root / "corpus", public], settings)
    cases = [c for c in ev.load_cases(CASES) if c["doc"] in OWN_DOCS]
    path = root / "cases.jsonl"
    path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n", encoding="utf-8")
    return settings, cases, path


def test_eval_run_meets_the_figure_targets(mixed: Any) -> None:
    settings, cases, _path = mixed
    store = CorpusStore(settings)
    report = ev.run_eval(cases, settings, engine_name="offline", store=store)
    assert len(report.cases) == len(cases) == 6
    by_name, _issuer = ev.own_doc_ids(store)
    for c in report.cases:
        assert c.error == ""
        assert c.excluded_doc_id == by_name[c.doc]
        assert c.figure_recall == 1.0 and c.missing_numbers == []
        assert c.extra_numbers == [] and c.guard_agrees
        assert c.excluded_doc_id not in c.cited_doc_ids
        assert c.same_series_eligible  # the other 驻马店 report is in the store
        assert 0.0 < c.rougeL <= 1.0 and 0.0 < c.baseline_rougeL <= 1.0
        assert c.latency_s > 0
        body, _echo = ev.draft_body(c.text, next(x for x in cases if x["id"] == c.id)["heading"])
        assert ev.figure_recall(next(x for x in cases if x["id"] == c.id)["bullets"], body) == 1.0
    m = report.metrics()
    assert m["figure_recall"] == 1.0 and m["unverified_per_draft"] == 0.0 and m["guard_agrees"] == 1.0
    assert m["same_series_cases"] == 6 and m["scored"] == 6 and m["failed"] == 0
    assert m["same_series_cite"] == pytest.approx(sum(c.same_series_cite for c in report.cases) / 6)
    assert "数字召回率" in report.table_zh() and "基线" in report.table_zh()


def test_own_document_is_left_out(mixed: Any) -> None:
    settings, cases, _path = mixed
    store = CorpusStore(settings)
    by_name, _issuer = ev.own_doc_ids(store)
    case = cases[0]
    own = by_name[case["doc"]]
    req = DraftRequest(heading=case["heading"], bullets=case["bullets"])
    kept = draft(req, settings, engine=OfflineEngine(), store=store)
    assert own in {c.doc_id for c in kept.references}  # without exclusion the report is retrieved itself
    left_out = draft(req, settings, engine=OfflineEngine(), store=store, exclude_doc_ids=[own])
    assert left_out.references and own not in {c.doc_id for c in left_out.references + left_out.citations}
    # 套写 from the report itself is refused when it is left out
    with pytest.raises(InputError, match="已被排除"):
        draft(DraftRequest(heading=case["heading"], bullets=case["bullets"], past=own), settings,
              engine=OfflineEngine(), store=store, exclude_doc_ids=[own])


def test_cli_eval_json(mixed: Any, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str]) -> None:
    settings, cases, path = mixed
    monkeypatch.setenv("DRAFTING_STORE", str(settings.store))
    code = main(["eval", str(path), "--engine", "offline", "--limit", "4", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(out) == {"engine", "cases", "metrics", "baseline", "per_case"}
    assert out["engine"] == "offline" and out["cases"] == 4 and len(out["per_case"]) == 4
    m = out["metrics"]
    assert set(m) >= {"figure_recall", "unverified_per_draft", "guard_agrees", "rougeL", "same_series_cite",
                      "latency_s_median"}
    assert m["figure_recall"] == 1.0 and m["unverified_per_draft"] == 0.0 and m["guard_agrees"] == 1.0
    assert 0.0 < m["rougeL"] <= 1.0 and 0.0 <= m["same_series_cite"] <= 1.0 and m["latency_s_median"] > 0
    b = out["baseline"]
    assert set(b) >= {"rougeL", "figure_recall", "unverified_per_draft"}
    assert b["rougeL"] == pytest.approx(
        sum(ev.rouge_l(ev.baseline_text(c["bullets"]), c["reference"]) for c in cases[:4]) / 4, abs=1e-4)
    for row, case in zip(out["per_case"], cases[:4], strict=True):
        assert row["id"] == case["id"] and row["doc"] == case["doc"] and row["region"] == case["region"]
        assert row["excluded_doc_id"] and row["excluded_doc_id"] not in row["cited_doc_ids"]
        assert row["text"] and row["status"] in ("ok", "needs_review") and row["error"] == ""
        assert row["figure_recall"] == 1.0 and row["extra_numbers"] == [] and row["missing_numbers"] == []
        assert row["guard_agrees"] is True and isinstance(row["same_series_cite"], bool)
    assert main(["eval", str(path), "--limit", "1"]) == 0
    human = capsys.readouterr().out
    assert "ROUGE-L" in human and "基线" in human
    assert main(["eval", str(path.with_name("missing.jsonl"))]) == 2
    assert "找不到评测文件" in capsys.readouterr().err


# ---- the style profile shapes drafting ---------------------------------------------------------------
def test_profile_shapes_the_prompt_and_the_offline_openers(mixed: Any) -> None:
    settings, _cases, _path = mixed
    store = CorpusStore(settings)
    profile = house_style(store)
    assert profile is not None and house_style(store) is profile  # cached in memory
    # five bureau documents and two others: the bureau does not drown, so every document counts
    assert profile.docs == 7
    # offline: no opener is invented any more; the only words lent are house phrases (≥3 documents)
    out = draft(DraftRequest(heading="城市更新", bullets=["老旧小区改造完成120个"]), settings,
                engine=OfflineEngine(), store=store)
    assert "老旧小区改造完成120个" in out.text and set(out.provenance) <= {"bullet", "phrase", "connective"}
    stub = OpenAIStub().start()
    try:
        stub.enqueue(Reply(text="完成老旧小区改造120个。"))
        llm = get_settings(store=settings.store, llm_base_url=stub.base_url, llm_model="stub", llm_retries=1)
        draft(DraftRequest(heading="城市更新", bullets=["老旧小区改造完成120个"]), llm,
              engine=OpenAIEngine(llm))
        system, user = (m["content"] for m in stub.requests[-1]["body"]["messages"])
        assert profile.prompt_hints() in user and profile.prompt_hints() not in system
    finally:
        stub.stop()


def test_profile_prefers_the_bureau_when_outnumbered() -> None:
    from drafting.records import Chunk
    from drafting.style_profile import prefer_bureau

    def chunk(doc: str, issuer: str) -> Chunk:
        return Chunk(f"{doc}-0", doc, "正文。", [], 0, 1, issuer=issuer)

    own = [chunk("a", "市住建局"), chunk("b", "市住建局")]
    others = [chunk(f"o{i}", "河南省驻马店市") for i in range(3)]
    assert prefer_bureau(own + others) == own
    assert prefer_bureau(own + others[:2]) == own + others[:2]  # not outnumbered: keep all
    assert prefer_bureau(others) == others


# ---- the eval through an LLM engine (real HTTP server on 127.0.0.1) ------------------------------------
def test_eval_with_the_openai_engine_scores_what_the_model_wrote(mixed: Any) -> None:
    from tests.openai_stub import OpenAIStub, Reply

    settings, cases, _path = mixed
    two = cases[:3]
    stub = OpenAIStub().start()
    try:
        faithful = "；".join(two[0]["bullets"]) + "。"
        invented = "；".join(two[1]["bullets"]) + "，完成投资987.6亿元。"
        stub.enqueue(Reply(text=faithful), Reply(text=invented), Reply(status=400))  # third case: a failure
        llm = get_settings(store=settings.store, llm_base_url=stub.base_url, llm_model="stub", llm_retries=0)
        report = ev.run_eval(two, llm, engine=OpenAIEngine(llm), store=CorpusStore(llm), ablation=False)
    finally:
        stub.stop()
    first, second, third = report.cases
    assert first.error == "" and first.figure_recall == 1.0 and first.extra_numbers == []
    assert second.extra_numbers == ["987.6"] and second.guard_agrees  # the guard flags 987.6亿元 too
    assert third.error and any("\u4e00" <= ch <= "\u9fff" for ch in third.error)
    m = report.metrics()
    assert m["failed"] == 1 and m["scored"] == 2
    assert m["unverified_per_draft"] == pytest.approx(0.5)
    # what was sent: the case's own document is never among the exemplars
    own = ev.own_doc_ids(CorpusStore(llm))[0][two[0]["doc"]]
    sent = stub.requests[0]["body"]["messages"][1]["content"]
    own_title = next(d.title for d in CorpusStore(llm).documents() if d.doc_id == own)
    assert own_title not in sent
