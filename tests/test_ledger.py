"""The figure ledger: built at ingest from real Chroma, rebuilt when the corpus changes, surviving a
kill -9; stale / inconsistent / last year's base on drafts; 口径不同 marks kept in history."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from drafting.cli import main
from drafting.drafter import DraftRequest, FigureRow, draft
from drafting.history import History
from drafting.ingest import ingest
from drafting.ledger import Ledger, check_ledger, indicator_match
from drafting.settings import get_settings
from drafting.store import CorpusStore
from tests.conftest import ROOT, ingested_seeds

ISSUER = "市住建局"
DOCS = {
    "2023上半年.txt": (
        "市住建局2023年上半年工作总结", 2023,
        ("市住建局2023年上半年工作总结\n一、主要工作\n（一）住房保障。上半年完成城镇棚户区改造2845套，"
        "新开工保障性租赁住房1260套，发放住房租赁补贴635万元。\n（二）城市更新。完成老旧小区改造46个，惠及居民1.3万户。\n"),
    ),
    "2024上半年.txt": (
        "市住建局2024年上半年工作总结", 2024,
        ("市住建局2024年上半年工作总结\n一、主要工作\n（一）住房保障。上半年完成棚户区改造3200套，"
        "新开工保障性租赁住房1410套，发放住房租赁补贴702万元。\n（二）城市更新。完成老旧小区改造52个，惠及居民1.6万户。\n"),
    ),
}


def _corpus(folder: Path, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for name in names:
        title, year, text = DOCS[name]
        (folder / name).write_text(text, encoding="utf-8")
        lines.append(json.dumps({"file": name, "title": title, "year": year, "issuer": ISSUER,
                                 "doc_type": "工作总结"},
                                ensure_ascii=False))
    (folder / "manifest.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def store_2023(tmp_path: Path) -> CorpusStore:
    settings = get_settings(store=tmp_path / "store", data_dir=tmp_path / "data")
    ingest([_corpus(tmp_path / "c", ["2023上半年.txt"])], settings)
    return CorpusStore(settings)


@pytest.fixture
def store_both(tmp_path: Path) -> CorpusStore:
    settings = get_settings(store=tmp_path / "store", data_dir=tmp_path / "data")
    ingest([_corpus(tmp_path / "c", ["2023上半年.txt", "2024上半年.txt"])], settings)
    return CorpusStore(settings)


def _value(facts: list[Any], raw: str) -> Any:
    return next(f for f in facts if f.raw == raw)


def test_ingest_records_every_figure_as_a_fact_with_its_source(store_2023: CorpusStore) -> None:
    saved = Ledger.load(store_2023.settings.ledger_path())
    assert saved is not None, "ingest writes the ledger to the store"
    facts = list(saved.iter_facts())
    f = _value(facts, "2845套")
    assert ((f.indicator, f.value, f.unit, f.period, f.year, f.issuer)
        == ("城镇棚户区改造", 2845.0, "套", "上半年", 2023, ISSUER))
    assert f.title == "市住建局2023年上半年工作总结" and "2845套" in f.passage and f.doc_id
    assert {"1260套", "635万元", "46个", "1.3万户"} <= {g.raw for g in facts}
    assert saved.fingerprint == store_2023.keyword().fingerprint


def test_masks_of_the_seed_reports_are_never_values(tmp_path_factory: pytest.TempPathFactory) -> None:
    settings = ingested_seeds(tmp_path_factory, "ledger-seeds")
    seeds_text = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "corpus").glob("*.txt"))
    assert "**" in seeds_text  # the seeds are masked: the check below can fail
    facts = list(CorpusStore(settings).ledger().iter_facts())
    assert facts, "unmasked figures of the seeds are in the ledger"
    assert not [f.raw for f in facts if "*" in f.raw]
    # every fact stands in its passage as written: a mask never became a number
    assert all(f.raw in f.passage for f in facts if not f.passage.startswith("…"))


def test_stale_figure_names_last_years_document(store_2023: CorpusStore) -> None:
    text = "上半年完成棚改2845套，新开工保障性租赁住房1500套。"
    out = check_ledger(store_2023.ledger(), text, "新开工保障性租赁住房1500套", year=2024, issuer=ISSUER)
    stale = [f for f in out if f.kind == "stale"]
    assert len(stale) == 1 and stale[0].raw == "2845套"
    assert stale[0].message.startswith("与《市住建局2023年上半年工作总结》中同一指标的数字相同，"
                                       "是否沿用了去年的数字？")
    assert "2845套" in stale[0].source.passage and text[stale[0].start : stale[0].end] == "2845套"
    # the writer gave it for this period: not stale
    given = check_ledger(store_2023.ledger(), text, "上半年完成棚户区改造2845套", year=2024, issuer=ISSUER)
    assert not [f for f in given if f.kind == "stale"]
    # said as last year's beside this year's value: a base, not stale
    base = check_ledger(store_2023.ledger(), "上半年完成棚户区改造3100套，上年同期为2845套。", year=2024,
                        issuer=ISSUER)
    assert not [f for f in base if f.kind == "stale"]


def test_inconsistent_with_an_issued_document_names_document_and_passage(store_both: CorpusStore) -> None:
    text = "今年上半年，全市完成棚户区改造3300套，老旧小区改造52个。"
    out = check_ledger(store_both.ledger(), text, year=2024, issuer=ISSUER)
    assert [(f.kind, f.raw) for f in out] == [("inconsistent", "3300套")]
    assert "《市住建局2024年上半年工作总结》" in out[0].message and "3200套" in out[0].message
    assert "上半年完成棚户区改造3200套" in out[0].source.passage
    # the published value and another issuer: nothing
    assert check_ledger(store_both.ledger(), "上半年完成棚户区改造3200套。", year=2024, issuer=ISSUER) == []
    assert check_ledger(store_both.ledger(), text, year=2024, issuer="别的单位") == []


def test_last_years_base_is_offered_computed_exactly_never_inserted(store_2023: CorpusStore) -> None:
    draft_text = "上半年完成棚户区改造3200套。"
    out = check_ledger(store_2023.ledger(), draft_text, "上半年完成棚户区改造3200套", year=2024,
                       issuer=ISSUER)
    base = [f for f in out if f.kind == "base"]
    assert len(base) == 1 and base[0].suggestion == "比上年增长12.5%"  # (3200-2845)/2845 = 12.478…%
    assert base[0].severity == "建议" and "《市住建局2023年上半年工作总结》" in base[0].message
    assert draft_text == "上半年完成棚户区改造3200套。"
    # the writer gave the rate or last year's value already: no suggestion
    for notes in ("上半年完成棚户区改造3200套，同比增长12.5%", "上半年完成棚户区改造3200套\n上年2845套"):
        assert not [f for f in check_ledger(store_2023.ledger(), draft_text, notes, year=2024, issuer=ISSUER)
                    if f.kind == "base"]


def test_wording_variants_are_one_indicator_within_an_issuer(store_both: CorpusStore) -> None:
    assert indicator_match("棚改", "棚户区改造") and indicator_match("棚户区改造", "城镇棚户区改造")
    assert not indicator_match("投资", "固定资产投资") and not indicator_match("棚户区改造", "老旧小区改造")
    series = store_both.ledger().series("棚改", issuer=ISSUER)[ISSUER]
    assert [(f.year, f.raw) for f in series] == [(2023, "2845套"), (2024, "3200套")]


def test_ledger_follows_the_corpus_removal_and_additions(store_both: CorpusStore, tmp_path: Path) -> None:
    fp = store_both.ledger().fingerprint
    doc = next(d for d in store_both.documents() if d.year == 2024)
    store_both.remove_document(doc.doc_id)
    again = CorpusStore(store_both.settings).ledger()
    assert again.fingerprint != fp
    raws = {f.raw for f in again.iter_facts()}
    assert "3200套" not in raws and "2845套" in raws
    saved = Ledger.load(store_both.settings.ledger_path())
    assert saved is not None and saved.fingerprint == again.fingerprint


_KILL = """
import os, signal, sys
from pathlib import Path
from drafting.ingest import ingest
from drafting.ledger import Ledger
from drafting.settings import get_settings

real = Ledger._replace
def replace(self, by_chunk):
    real(self, by_chunk)  # the 2024 document's facts are written, not committed
    os.kill(os.getpid(), signal.SIGKILL)
Ledger._replace = replace
ingest([Path(sys.argv[2])], get_settings(store=sys.argv[1]))
"""


def _rebuilt(store: CorpusStore) -> list[str]:
    """The ledger a full rebuild from the collection gives, as sorted JSON."""
    from drafting.ledger import chunk_facts

    return sorted(json.dumps(f.to_json(), sort_keys=True, ensure_ascii=False)
                  for c in store.iter_chunks() for f in chunk_facts(c))


def _held(ledger: Ledger) -> list[str]:
    return sorted(json.dumps(f.to_json(), sort_keys=True, ensure_ascii=False) for f in ledger.iter_facts())


def test_ledger_survives_kill_9_while_being_written(store_2023: CorpusStore, tmp_path: Path) -> None:
    before = _held(store_2023.ledger())
    corpus = _corpus(tmp_path / "c2", ["2024上半年.txt"])
    proc = subprocess.run([sys.executable, "-c", _KILL, str(store_2023.settings.store), str(corpus)],
                          check=False, cwd=ROOT, capture_output=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-500:]
    # the write that was cut off left nothing: the ledger on disk is the one before the ingest
    saved = Ledger.load(store_2023.settings.ledger_path())
    assert saved is not None and _held(saved) == before
    saved.close()
    # reopened, the ledger follows the collection, whatever the killed ingest wrote to Chroma
    after = CorpusStore(store_2023.settings)
    assert _held(after.ledger()) == _rebuilt(after)


def test_an_unreadable_ledger_file_is_rebuilt(store_both: CorpusStore) -> None:
    before = _held(store_both.ledger())
    path = store_both.settings.ledger_path() / "facts.sqlite3"
    store_both.ledger().close()
    path.write_bytes(b"this is not a database" * 100)
    assert Ledger.load(store_both.settings.ledger_path()) is None
    again = CorpusStore(store_both.settings).ledger()
    assert _held(again) == before and len(before) > 5


def test_a_staged_chunk_that_never_reached_the_collection_is_dropped(store_2023: CorpusStore) -> None:
    from drafting.ledger import LedgerFact

    store_2023.ledger()
    ghost = LedgerFact("棚户区改造", 9999, "套", "9999套", [], "", "上半年", 2023, False,
                       doc_id="ghost", issuer=ISSUER)
    store_2023.stage_ledger({"ghost-chunk": [ghost]})  # as an ingest would, then its write failed
    assert "9999套" not in {f.raw for f in store_2023.ledger().iter_facts()}
    assert _held(store_2023.ledger()) == _rebuilt(store_2023)


def test_basis_marks_are_kept_in_history_and_not_asked_again(store_2023: CorpusStore, tmp_path: Path) -> None:
    text = "上半年完成棚改2845套。"
    first = check_ledger(store_2023.ledger(), text, year=2024, issuer=ISSUER)
    assert [f.kind for f in first] == ["stale"]
    History(tmp_path / "h.sqlite3").mark_basis("张三", first[0].key, "本年统计含新区，数字恰好相同",
                                               first[0].to_json())
    marks = History(tmp_path / "h.sqlite3").basis_marks("张三")
    assert marks == {first[0].key: "本年统计含新区，数字恰好相同"}
    assert check_ledger(store_2023.ledger(), text, year=2024, issuer=ISSUER, marks=marks) == []
    assert History(tmp_path / "h.sqlite3").basis_marks("李四") == {}
    from drafting.errors import InputError

    with pytest.raises(InputError, match="口径为什么不同"):
        History(tmp_path / "h.sqlite3").mark_basis("张三", first[0].key, "  ")


def test_every_draft_carries_the_ledger_checks(store_both: CorpusStore) -> None:
    req = DraftRequest("（一）住房保障", ["上半年完成棚户区改造3300套"],
                       [FigureRow("老旧小区改造", "52", "个")], year=2024)
    res = draft(req, store_both.settings, store=store_both)
    kinds = [f.kind for f in res.corpus.ledger]
    assert "inconsistent" in kinds and res.status == "needs_review"
    assert any("《市住建局2024年上半年工作总结》" in r for r in res.reasons())
    assert res.to_json()["corpus"]["ledger"][0]["source"]["title"] == "市住建局2024年上半年工作总结"
    # the fact guard's own findings are unchanged by the ledger
    from drafting.drafter import check

    guard, _terms = check(res.text, req.sources(), req.pairs())
    assert guard.to_json() == res.figures.to_json()


def test_cli_ledger_lists_values_over_time(store_both: CorpusStore, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DRAFTING_STORE", str(store_both.settings.store))
    assert main(["ledger", "棚改", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    values = out["series"][0]["values"]
    assert out["series"][0]["issuer"] == ISSUER and [v["raw"] for v in values] == ["2845套", "3200套"]
    assert values[1]["title"] == "市住建局2024年上半年工作总结" and "3200套" in values[1]["passage"]
    assert main(["ledger", "棚改"]) == 0
    text = capsys.readouterr().out
    assert "2023年上半年" in text and "《市住建局2023年上半年工作总结》" in text
    assert main(["ledger", "高速公路通车里程"]) == 1
    assert "没有“高速公路通车里程”这一指标" in capsys.readouterr().out


def test_cli_check_reports_the_ledger(store_both: CorpusStore, monkeypatch: pytest.MonkeyPatch,
                                      tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DRAFTING_STORE", str(store_both.settings.store))
    f = tmp_path / "稿件.txt"
    f.write_text("上半年完成棚户区改造3300套。", encoding="utf-8")
    assert main(["check", str(f), "--year", "2024", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "needs_review" and out["corpus"]["ledger"][0]["kind"] == "inconsistent"
    assert main(["check", str(f), "--year", "2024", "--no-corpus", "--json"]) == 0
    capsys.readouterr()


def test_polish_checks_the_writers_text_against_the_ledger(store_2023: CorpusStore) -> None:
    from drafting.polish import polish

    settings = store_2023.settings.model_copy(
        update={"ledger": store_2023.settings.ledger.model_copy(update={"year": 2024})})
    res = polish("今年上半年，全市完成棚改2845套，工作取得明显成效。", settings, store=store_2023)
    assert res.corpus is not None and [f.kind for f in res.corpus.ledger] == ["stale"]
    assert res.to_json()["corpus"]["ledger"][0]["source"]["title"] == "市住建局2023年上半年工作总结"


def test_the_house_issuer_is_counted_again_when_the_corpus_changes(store_2023: CorpusStore,
                                                                    tmp_path: Path) -> None:
    from drafting.corpuscheck import house_issuer

    assert house_issuer(store_2023, store_2023.settings) == ISSUER
    other = tmp_path / "other"
    other.mkdir()
    lines = []
    for n in range(3):  # three reports of another issuer: more figures than the one of ISSUER
        (other / f"{n}.txt").write_text(
            f"区住建局202{n}年工作总结\n一、主要工作\n完成棚户区改造{100 + n}套，"
            f"新开工保障性租赁住房{200 + n}套，发放住房租赁补贴{300 + n}万元。\n", encoding="utf-8")
        lines.append(json.dumps({"file": f"{n}.txt", "title": f"区住建局202{n}年工作总结", "year": 2020 + n,
                                 "issuer": "区住建局", "doc_type": "工作总结"}, ensure_ascii=False))
    (other / "manifest.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest([other], store_2023.settings, store=store_2023)
    assert house_issuer(store_2023, store_2023.settings) == "区住建局"
