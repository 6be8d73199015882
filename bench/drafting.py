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
        print(f"built store {path}: {report.added} documents, {report.chunks} chunks, {time.perf_counter() - t:.1f} s")
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
        ["figure_recall (mean / min)", f"{m['figure_recall']:.3f} / {m['figure_recall_min']:.3f}", "1.000", "1.000", "-"],
        ["unverified_per_draft (mean / max)", f"{m['unverified_per_draft']:.3f} / {m['unverified_max']}", "0", "0", "-"],
        ["guard_agrees", f"{m['guard_agrees']:.3f}", "-", "-", "-"],
        ["needs_review rate", f"{m['needs_review_rate']:.3f}", "-", "-", "-"],
        ["drafts with a 必查 guard finding", f"{m['guard_finding_rate']:.3f} ({m['guard_findings']} findings)", "-", "-", "-"],
        ["malformed drafts", f"{m['malformed']}", "-", "-", "-"],
        [f"same_series_cite ({m['same_series_cases']} cases, linked only)", f"{m['same_series_cite']:.3f}", "-", "-", "-"],
        ["latency_s_median", f"{m['latency_s_median']:.3f}", "-", "-", "-"],
    ]
    print(f"\n`drafting eval` on {CASES.name}: {n} cases, engine {report.engine}, "
          f"{m['scored']} scored, {m['failed']} failed (failures count as zeros), {wall:.1f} s")
    print(table(rows, ["metric", report.engine, "bullets joined ；", "bullets joined ，", f"{report.engine}, retrieval off"]))
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", nargs="?", choices=["latency", "eval", "all"], default="all")
    ap.add_argument("--store", type=Path, default=STORE)
    ap.add_argument("--engine", default="offline", choices=["offline", "openai", "local"])
    ap.add_argument("--limit", type=int, default=None)
    a = ap.parse_args()
    settings, store = open_store(a.store)
    if a.what in ("latency", "all"):
        bench_latency(settings, store)
    if a.what in ("eval", "all"):
        bench_eval(settings, store, a.engine, a.limit)


if __name__ == "__main__":
    main()
