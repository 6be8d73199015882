"""Drafting benchmarks for issue #3.  Prints tables; results are recorded in docs/benchmarks.md.

    python bench/drafting.py                 # latency + eval, offline engine, store under bench/out/store
    python bench/drafting.py latency         # in-process drafting latency p50/p95 over the dev cases
    python bench/drafting.py eval            # `drafting eval` metrics beside the baseline
    python bench/drafting.py eval --engine openai --limit 20

The store holds ../shared/corpus/public + corpus/ (the seeds).  It is reused when bench/out/store
already holds documents, and built by a real ingest otherwise.  Each case's own document is left out
of retrieval and citations, as `drafting eval` does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from retrieval import CASES, PUBLIC, SEEDS, pct, table

STORE = ROOT / "bench" / "out" / "store"


def open_store(path: Path) -> Any:
    from drafting.ingest import ingest
    from drafting.settings import get_settings
    from drafting.store import CorpusStore

    settings = get_settings(store=path)
    store = CorpusStore(settings)
    if store.count() == 0:
        t = time.perf_counter()
        report = ingest([PUBLIC, SEEDS], settings, store=store)
        print(f"built store {path}: {report.added} documents, {report.chunks} chunks, "
              f"{time.perf_counter() - t:.1f} s")
    return settings, store


def bench_latency(settings: Any, store: Any, repeats: int = 3) -> None:
    from drafting.drafter import DraftRequest, draft
    from drafting.evaluate import load_cases, own_doc_ids
    from drafting.offline import OfflineEngine

    cases = load_cases(CASES)
    by_name, _issuer = own_doc_ids(store)
    engine = OfflineEngine()
    first = cases[0]
    draft(DraftRequest(first["heading"], first["bullets"]), settings, engine=engine, store=store)  # warm
    times: list[float] = []
    for _ in range(repeats):
        for c in cases:
            own = by_name.get(c["doc"])
            t = time.perf_counter()
            draft(DraftRequest(c["heading"], c["bullets"]), settings, engine=engine, store=store,
                  exclude_doc_ids=[own] if own else [])
            times.append((time.perf_counter() - t) * 1000)
    print(f"\nOffline drafting latency, in-process, {len(times)} drafts (retrieval + compose + checks), ms")
    print(table([["p50", pct(times, 0.5)], ["p95", pct(times, 0.95)], ["max", max(times)],
                 ["mean", statistics.mean(times)]], ["stat", "ms"]))


def bench_eval(settings: Any, store: Any, engine: str, limit: int | None) -> Any:
    from drafting.evaluate import load_cases, run_eval

    cases = load_cases(CASES)[:limit]
    t = time.perf_counter()
    report = run_eval(cases, settings, engine_name=engine, store=store)
    wall = time.perf_counter() - t
    m, b = report.metrics(), report.baseline()
    n = len(cases)
    rows = [
        ["ROUGE-L mean", f"{m['rougeL']:.3f}", f"{b['rougeL']:.3f}", f"{b['comma_rougeL']:.3f}",
         f"{b['no_retrieval_rougeL']:.3f}" if b["no_retrieval_rougeL"] is not None else "-"],
        ["wins vs comma baseline", f"{m['wins']}/{n} ({m['win_rate']:.1%})",
         f"{sum(c.baseline_rougeL > c.comma_rougeL for c in report.cases)}/{n}", "-",
         f"{sum((c.no_retrieval_rougeL or 0) > c.comma_rougeL for c in report.cases)}/{n}"],
        ["figure_recall (mean / min)", f"{m['figure_recall']:.3f} / {m['figure_recall_min']:.3f}", "1.000",
         "1.000", "-"],
        ["unverified_per_draft (mean / max)", f"{m['unverified_per_draft']:.3f} / {m['unverified_max']}", "0",
         "0", "-"],
        ["guard_agrees", f"{m['guard_agrees']:.3f}", "-", "-", "-"],
        ["needs_review rate", f"{m['needs_review_rate']:.3f}", "-", "-", "-"],
        ["drafts with a 必查 guard finding",
         f"{m['guard_finding_rate']:.3f} ({m['guard_findings']} findings)", "-", "-", "-"],
        ["malformed drafts", f"{m['malformed']}", "-", "-", "-"],
        [f"same_series_cite ({m['same_series_cases']} cases, linked only)", f"{m['same_series_cite']:.3f}",
         "-", "-", "-"],
        ["latency_s_median", f"{m['latency_s_median']:.3f}", "-", "-", "-"],
    ]
    print(f"\n`drafting eval` on {CASES.name}: {n} cases, engine {report.engine}, "
          f"{m['scored']} scored, {m['failed']} failed (failures count as zeros), {wall:.1f} s")
    print(table(rows, ["metric", report.engine, "bullets joined ；", "bullets joined ，",
                       f"{report.engine}, retrieval off"]))
    total = sum(m["provenance"].values())
    print("character provenance of the drafts' bodies: " + ", ".join(
        f"{k} {v} ({v / total:.1%})" for k, v in sorted(m["provenance"].items(), key=lambda kv: -kv[1])))
    for c in report.cases:
        if c.malformed or c.guard_findings or c.error:
            print(f"  {c.id}: malformed={c.malformed} findings={c.guard_findings} error={c.error[:60]}")
    out = ROOT / "bench" / "out" / f"drafting-eval-{report.engine}.json"
    out.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"per-case results: {out.relative_to(ROOT)}")
    return report


SERIES = ("河南省驻马店市", "内蒙古呼伦贝尔市海拉尔区")


def _taoxie_scores(out: Any, bullets: list[str]) -> dict[str, Any]:
    from drafting.quantities import digit_runs

    body = out.text.split("\n", 1)[1] if "\n" in out.text else out.text
    allowed = {v for _s, _e, v in digit_runs("\n".join(bullets))}
    have = [v for _s, _e, v in digit_runs(body)]
    return {
        "old_unmarked": sum(v not in allowed for v in have) + body.count("*") + body.count("＊"),
        "writer_placed": len(allowed & set(have)) / len(allowed) if allowed else 1.0,
        # in an old slot, not in the sentences added after the section (此外，…)
        "in_slot": len(allowed & {v for _s, _e, v in digit_runs(body.rsplit("此外，", 1)[0])}) / len(allowed)
        if allowed else 1.0,
        "gaps": body.count("【待补充】"),
        "inherited": len(out.inherited),
        "hard": sum(f.severity == "必查" for f in out.figures.findings()),
        "chars": len(body),
        "template_share": out.provenance.get("template", 0) / max(1, sum(out.provenance.values())),
    }


def bench_taoxie(settings: Any, store: Any) -> None:
    """套写: year N of each series drafted from year N−1 (the latest earlier report in the store), with
    year N's own document left out; and each masked seed section refilled with figures of its own."""
    from drafting.drafter import DraftRequest, draft
    from drafting.evaluate import comma_text, draft_body, load_cases, own_doc_ids, rouge_l
    from drafting.offline import OfflineEngine

    docs = store.documents()
    by_name, _issuer = own_doc_ids(store)
    cases = [c for c in load_cases(CASES) if c.get("region") in SERIES]
    rows = []
    per: list[dict[str, Any]] = []
    for region in SERIES:
        series = sorted((d for d in docs if d.issuer == region), key=lambda d: d.year)
        sc: list[dict[str, Any]] = []
        for c in (c for c in cases if c["region"] == region):
            own = by_name.get(c["doc"])
            me = next((d for d in series if d.doc_id == own), None)
            prev = [d for d in series if me is not None and d.year < me.year]
            if me is None or not prev:
                continue
            req = DraftRequest(heading=c["heading"], bullets=c["bullets"], doc_type=me.doc_type,
                               past=prev[-1].doc_id)
            out = draft(req, settings, engine=OfflineEngine(), store=store, exclude_doc_ids=[own])
            score = _taoxie_scores(out, c["bullets"])
            score.update(id=c["id"], year=me.year, from_year=prev[-1].year,
                         rougeL=rouge_l(draft_body(out.text, c["heading"])[0], c["reference"]),
                         comma=rouge_l(comma_text(c["bullets"]), c["reference"]))
            sc.append(score)
        per += sc
        n = len(sc) or 1
        rows.append([region, len(sc), sum(x["old_unmarked"] for x in sc),
                     f"{sum(x['writer_placed'] for x in sc) / n:.3f} "
                     f"({sum(x['in_slot'] for x in sc) / n:.1%} in a slot)",
                     f"{sum(x['gaps'] for x in sc) / n:.1f}",
                     f"{sum(x['inherited'] for x in sc) / n:.1f}", sum(x["hard"] > 0 for x in sc),
                     f"{sum(x['template_share'] for x in sc) / n:.1%}",
                     f"{sum(x['rougeL'] for x in sc) / n:.3f} / {sum(x['comma'] for x in sc) / n:.3f}"])
    # the seeds: each masked section refilled with figures of its own (the masked clauses, numbered)
    import re

    from drafting.quantities import extract_masks
    from drafting.template import _section_rows

    seed_scores = []
    for d in (d for d in docs if "住建局" in d.title):
        for path, text, _title, _pos in _section_rows(store, d.doc_id):
            masks = extract_masks(text)
            if not path or not 2 <= len(masks) <= 12:
                continue
            clauses = [cl for cl in re.split(r"[，。；]", text) if extract_masks(cl)]
            numbers = iter(range(11, 999))
            bullets = [re.sub(r"[*＊][*＊.．]*", lambda _m, it=numbers: str(next(it)), cl).strip()
                       for cl in clauses]
            req = DraftRequest(heading=path[-1], bullets=bullets, past=f"{d.doc_id}:{path[-1]}")
            out = draft(req, settings, engine=OfflineEngine(), store=store)
            s_ = _taoxie_scores(out, bullets)
            # placed where it belongs: the filled text equals the section with each mask's own number
            s_["exact"] = all(b in out.text for b in bullets)
            seed_scores.append(s_)
    n = len(seed_scores) or 1
    rows.append(["seeds (masks, own figures)", len(seed_scores), sum(x["old_unmarked"] for x in seed_scores),
                 f"{sum(x['writer_placed'] for x in seed_scores) / n:.3f} "
                 f"({sum(x['in_slot'] for x in seed_scores) / n:.1%} in a slot)",
                 f"{sum(x['gaps'] for x in seed_scores) / n:.1f}",
                 f"{sum(x['inherited'] for x in seed_scores) / n:.1f}",
                 sum(x["hard"] > 0 for x in seed_scores),
                 f"{sum(x['template_share'] for x in seed_scores) / n:.1%}",
                 f"every clause intact in {sum(x['exact'] for x in seed_scores)}/{len(seed_scores)}"])
    print("\n套写: year N from year N-1 (year N left out of the store); seeds refilled with their own "
          "figures")
    print(table(rows, ["series", "cases", "old figures unmarked", "writer figures placed", "【待补充】/draft",
                       "inherited claims/draft", "drafts with 必查", "template share",
                       "ROUGE-L 套写 / comma"]))
    out_path = ROOT / "bench" / "out" / "taoxie.json"
    out_path.write_text(json.dumps({"series": per, "seeds": seed_scores}, ensure_ascii=False, indent=1),
                        encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", nargs="?", choices=["latency", "eval", "taoxie", "all"], default="all")
    ap.add_argument("--store", type=Path, default=STORE)
    ap.add_argument("--engine", default="offline", choices=["offline", "openai", "local"])
    ap.add_argument("--limit", type=int, default=None)
    a = ap.parse_args()
    settings, store = open_store(a.store)
    if a.what in ("latency", "all"):
        bench_latency(settings, store)
    if a.what in ("eval", "all"):
        bench_eval(settings, store, a.engine, a.limit)
    if a.what in ("taoxie", "all"):
        bench_taoxie(settings, store)


if __name__ == "__main__":
    main()
