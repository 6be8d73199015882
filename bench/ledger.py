"""Planted-error benchmark for the figure ledger and the policy-citation check; results go in
docs/benchmarks.md.

    python bench/ledger.py                  # ledger plants, citation plants, lookup time
    python bench/ledger.py --ingest 2       # also ingest side by side, ledger off / on, 2 rounds each
    python bench/ledger.py --examples 3     # print a few misses and false alarms

Ledger (the same-issuer series of ../shared/corpus/public: 驻马店, 海拉尔区).  A passage is one chunk of a
document D of year N; a figure is a fact with a unit whose indicator string is *identical* to one in
another document of the series (the plant is chosen without the checker's own indicator matcher).

* stale: the figure's number is replaced by the value the year N−1 document gives for that indicator;
  the passage is checked as a draft for year N with D left out of the ledger (the writer is writing D).
  Caught: a ``stale`` finding on the planted figure.
* inconsistent: the figure's value is changed (+7%, same decimals); the passage is checked as a new
  text for year N with D in the ledger (D is the issued document; the series hold one document per
  issuer and year, so the other year-N document is D itself).  Caught: an ``inconsistent`` finding on it.
* false alarms: every clean passage with a figure, checked both ways; a passage with any stale or
  inconsistent finding is a false alarm.

Citations (the Shanghai documents the corpus holds): a sentence 「根据《title》（文号）要求，“quote”」 is
built for each document (the title as issuers cite it, without the issuing body; the quote a sentence of
the document), checked clean, then with one planted error each: a character dropped from the title,
a character added, a wrong 文号, the 文号 with [] or () instead of 〔〕, a quote with a word changed.
Titles of documents that are not in the store must be reported as not in the store.

Cost: the ledger checks of one draft (check_ledger on a 600-character passage), median over passages.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drafting.citecheck import check_citations
from drafting.ingest import ingest
from drafting.ledger import LedgerFact, check_ledger
from drafting.settings import get_settings
from drafting.store import CorpusStore

SHARED = Path(os.environ.get("DRAFTING_SHARED") or ROOT.parent / "shared")  # as bench/retrieval.py
PUBLIC = SHARED / "corpus" / "public"
SEEDS = SHARED / "corpus" / "seeds"
SERIES = ("河南省驻马店市", "内蒙古呼伦贝尔市海拉尔区")
SEED = 20261128
MIN_DIGITS = get_settings().ledger.min_digits


def _fmt_like(raw_num: str, value: float) -> str:
    decimals = len(raw_num.split(".")[1]) if "." in raw_num else 0
    return f"{value:.{decimals}f}"


def _num_span(text: str, f: LedgerFact) -> tuple[int, int] | None:
    if f.start is None:
        return None
    m = re.match(r"[0-9]+(?:\.[0-9]+)?", text[f.start : f.end])
    return (f.start, f.start + m.end()) if m else None


def ledger_bench(store: CorpusStore, examples: int) -> dict[str, Any]:  # noqa: C901  one measuring loop, bench only
    from drafting.ledger import facts_of_text

    ledger = store.ledger()
    chunks = {}
    series_facts = [f for s in SERIES for f in ledger.iter_facts(issuer=s)]
    for cid, (chunk, _e) in store.get_chunks(list(dict.fromkeys(f.chunk_id for f in series_facts))).items():
        chunks[cid] = chunk
    by_doc_year: dict[tuple[str, int], dict[str, list[LedgerFact]]] = {}
    for f in series_facts:
        by_doc_year.setdefault((f.issuer, f.year), {}).setdefault(f.indicator, []).append(f)
    res: dict[str, Any] = {"stale": [0, 0], "inconsistent": [0, 0], "clean_stale": [0, 0],
                           "clean_inconsistent": [0, 0],
                           "times_ms": [], "misses": [], "alarms": []}
    rng = random.Random(SEED)
    for _cid, chunk in sorted(chunks.items()):
        text = chunk.text
        year, issuer = chunk.year, chunk.issuer
        own = facts_of_text(text, year=year, shift=False)
        if not own:
            continue
        # clean, both ways
        t = time.perf_counter()
        out_s = check_ledger(ledger, text, year=year, issuer=issuer, exclude_doc_ids=[chunk.doc_id],
                             min_digits=MIN_DIGITS)
        res["times_ms"].append((time.perf_counter() - t) * 1000)
        out_i = check_ledger(ledger, text, year=year, issuer=issuer)
        for name, out in (("clean_stale", out_s), ("clean_inconsistent", out_i)):
            bad = [f for f in out if f.kind in ("stale", "inconsistent")]
            res[name][1] += 1
            if bad:
                res[name][0] += 1
                res["alarms"].append((name, chunk.title, bad[0].raw, bad[0].message[:120]))
        prev = by_doc_year.get((issuer, year - 1), {})
        same = by_doc_year.get((issuer, year), {})
        stale_cands, inc_cands = [], []
        for f in own:
            span = _num_span(text, f)
            if span is None or f.target:
                continue
            olds = [g for g in prev.get(f.indicator, []) if g.unit == f.unit and g.direction == f.direction
                    and g.period == f.period and not g.target and abs(g.value - f.value) > 1e-9]
            if olds:
                stale_cands.append((f, span, olds[0]))
            if len(same.get(f.indicator, [])) == sum(1 for g in own if g.indicator == f.indicator):
                inc_cands.append((f, span))
        for f, span, old in rng.sample(stale_cands, min(2, len(stale_cands))):
            m = re.match(r"[0-9]+(?:\.[0-9]+)?", old.raw)
            if not m:
                continue
            num = m.group()
            scale = old.value / float(num)
            here = float(text[span[0]:span[1]])
            if abs(f.value / here - scale) > 1e-6 * scale:
                continue  # 万 in one, 亿 in the other: not the same written form
            planted = text[: span[0]] + num + text[span[1] :]
            out = check_ledger(ledger, planted, year=year, issuer=issuer, exclude_doc_ids=[chunk.doc_id],
                               min_digits=MIN_DIGITS)
            hit = any(o.kind == "stale" and o.start == span[0] for o in out)
            res["stale"][1] += 1
            res["stale"][0] += hit
            if not hit:
                short = len(num.replace(".", "").lstrip("0")) < 3
                res["misses"].append(("stale", "short" if short else "", chunk.title, f.indicator,
                                      text[span[0]:span[1]], num, old.title))
        for f, span in rng.sample(inc_cands, min(2, len(inc_cands))):
            raw = text[span[0]:span[1]]
            new = _fmt_like(raw, float(raw) * 1.07)
            if new == raw:
                continue
            planted = text[: span[0]] + new + text[span[1] :]
            out = check_ledger(ledger, planted, year=year, issuer=issuer)
            hit = any(o.kind == "inconsistent" and o.start == span[0] for o in out)
            res["inconsistent"][1] += 1
            res["inconsistent"][0] += hit
            if not hit:
                n_values = len({round(g.value, 9) for g in same.get(f.indicator, [])})
                res["misses"].append(("inconsistent", "ambiguous" if n_values > 1 else "", chunk.title,
                                      f.indicator, raw, new, ""))
    from collections import Counter

    res["miss_reasons"] = dict(Counter(f"{m[0]}:{m[1] or 'other'}" for m in res["misses"]))
    if examples:
        for m in [m for m in res["misses"] if not m[1]][:examples]:
            print("MISS(other)", m)
        for m in rng.sample(res["misses"], min(examples, len(res["misses"]))):
            print("MISS", m)
        for a in rng.sample(res["alarms"], min(examples, len(res["alarms"]))):
            print("ALARM", a)
    return res


_TITLE_TAIL = re.compile(r"[（(][^（）()]*(?:〔|号|节选|印发)[^（）()]*[）)]$")


def citation_bench(store: CorpusStore) -> dict[str, Any]:
    docs = [d for d in store.documents() if d.issuer == "上海市" and "〔" in d.title]
    rng = random.Random(SEED)
    counts = {k: [0, 0] for k in ("clean", "title_drop", "title_add", "docno", "brackets", "quote", "absent")}
    for d in docs:
        title = d.title
        while _TITLE_TAIL.search(title):
            title = _TITLE_TAIL.sub("", title).strip()
        m = re.search(r"[\u4e00-\u9fff]{1,8}〔\d{4}〕\d+号", d.title)
        if not m:
            continue
        docno = m.group()
        cited = title[title.index("关于"):] if "关于" in title else title
        chunks = [c for c, _e in store.get_chunks(
            [i for i, _t, meta in store.iter_rows(["metadatas"], where={"doc_id": d.doc_id})]).values()]
        sentences = [s for c in chunks for s in re.split(r"[。；\n]", c.text) if 12 <= len(s) <= 40
                     and "“" not in s]
        quote = rng.choice(sentences) if sentences else ""

        def run(t: str, no: str, q: str) -> list[Any]:
            return check_citations(store, f"根据《{t}》（{no}）要求，“{q}”。")

        counts["clean"][1] += 1
        counts["clean"][0] += bool(run(cited, docno, quote))
        i = rng.randrange(1, len(cited) - 1)
        plants = {
            "title_drop": (cited[:i] + cited[i + 1 :], docno, quote, "title"),
            "title_add": (cited[:i] + "进一步" + cited[i:], docno, quote, "title"),
            "docno": (cited, re.sub(r"(\d+)号$", lambda mm: f"{int(mm.group(1)) + 3}号", docno), quote,
                      "docno"),
            "brackets": (cited, docno.replace("〔", "[").replace("〕", "]"), quote, "brackets"),
            "quote": (cited, docno, quote[:4] + "全面" + quote[6:], "quote"),
        }
        for name, (t, no, q, kind) in plants.items():
            counts[name][1] += 1
            counts[name][0] += any(f.kind == kind for f in run(t, no, q))
    for t in ("关于推进本市绿色生态城区建设指导意见的通知", "上海市绿色建筑创建行动实施方案",
              "关于做好既有建筑玻璃幕墙专项排查整治工作的通知"):
        counts["absent"][1] += 1
        counts["absent"][0] += any(f.kind == "absent" for f in check_citations(store, f"根据《{t}》要求。"))
    return counts


def ingest_side_by_side(rounds: int) -> dict[str, Any]:
    """Ingest public + seeds into fresh stores, ledger off and on interleaved: wall seconds, CPU seconds
    of this process and its (joined) worker, and the ledger's own stages from the ingest report."""
    out: dict[str, Any] = {"off": [], "on": [], "off_cpu": [], "on_cpu": [], "ledger_facts_s": [],
                           "ledger_sync_s": []}
    for _ in range(rounds):
        for mode in ("off", "on"):
            tmp = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
            try:
                settings = get_settings(store=tmp / "store", ledger={"enabled": mode == "on"})
                c0 = os.times()
                t = time.perf_counter()
                report = ingest([PUBLIC, SEEDS], settings)
                out[mode].append(round(time.perf_counter() - t, 2))
                c1 = os.times()
                cpu = (c1.user - c0.user) + (c1.system - c0.system) + (
                    c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
                out[f"{mode}_cpu"].append(round(cpu, 2))
                if mode == "on":
                    out["ledger_facts_s"].append(round(report.timings.get("ledger facts", 0.0), 2))
                    out["ledger_sync_s"].append(round(report.timings.get("ledger", 0.0), 2))
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    for k in ("off", "on", "off_cpu", "on_cpu"):
        out[f"{k}_median"] = statistics.median(out[k])
    out["slowdown_wall"] = round(out["on_median"] / out["off_median"] - 1, 3)
    out["slowdown_cpu"] = round(out["on_cpu_median"] / out["off_cpu_median"] - 1, 3)
    return out


def whole_checks_ms(store: CorpusStore, n: int = 100) -> dict[str, float]:
    """The corpus checks a draft goes through (ledger + citations, the draft's facts read), per passage."""
    from drafting.corpuscheck import corpus_checks

    ledger = store.ledger()
    ids = list(dict.fromkeys(f.chunk_id for s in SERIES for f in ledger.iter_facts(issuer=s)))[:n]
    chunks = [c for c, _e in store.get_chunks(ids).values()]
    corpus_checks(store, store.settings, chunks[0].text, year=chunks[0].year)  # warm: policy titles, caches
    times = []
    for c in chunks:
        t = time.perf_counter()
        corpus_checks(store, store.settings, c.text, year=c.year, issuer=c.issuer)
        times.append((time.perf_counter() - t) * 1000)
    return {"median": round(statistics.median(times), 2),
            "p95": round(sorted(times)[int(len(times) * 0.95)], 2),
            "max": round(max(times), 2), "passages": len(times)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", type=Path, help="a store holding the public corpus (default: a fresh one)")
    ap.add_argument("--ingest", type=int, default=0, help="rounds of side-by-side ingest timing")
    ap.add_argument("--examples", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--min-digits", type=int, help="override DRAFTING_LEDGER__MIN_DIGITS")
    ap.add_argument("--only-ingest", action="store_true", help="only the side-by-side ingest timing")
    args = ap.parse_args()
    if args.min_digits:
        global MIN_DIGITS
        MIN_DIGITS = args.min_digits
    tmp = None
    if args.store is None:
        tmp = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
        args.store = tmp / "store"
        ingest([PUBLIC, SEEDS], get_settings(store=args.store))
    if args.only_ingest:
        print(json.dumps(ingest_side_by_side(args.ingest or 3), ensure_ascii=False, indent=1))
        return
    store = CorpusStore(get_settings(store=args.store))
    seeds_facts = sum(1 for f in store.ledger().iter_facts() if "*" in f.raw)
    res = ledger_bench(store, args.examples)
    cites = citation_bench(store)
    times = res.pop("times_ms")
    summary = {
        "stale_caught": res["stale"], "inconsistent_caught": res["inconsistent"],
        "false_alarms_stale_mode": res["clean_stale"],
        "false_alarms_inconsistent_mode": res["clean_inconsistent"],
        "lookup_ms_median": round(statistics.median(times), 2),
        "lookup_ms_p95": round(sorted(times)[int(len(times) * 0.95)], 2),
        "miss_reasons": res["miss_reasons"], "ledger_facts": len(store.ledger()),
        "whole_corpus_checks_ms": whole_checks_ms(store), "masked_values_in_ledger": seeds_facts,
        "citations": cites,
    }
    if args.ingest:
        summary["ingest_s"] = ingest_side_by_side(args.ingest)
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=1))
        return
    for k, v in summary.items():
        if isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v):
            print(f"{k:34s} {v[0]}/{v[1]} = {v[0] / max(1, v[1]):.1%}")
        else:
            print(f"{k:34s} {v}")


if __name__ == "__main__":
    main()
