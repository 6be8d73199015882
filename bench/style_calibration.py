"""Style conformance calibration (issue #12): real passages against bare bullet lists.

    python bench/style_calibration.py            # the table recorded in docs/benchmarks.md
    python bench/style_calibration.py --no-offline   # without the offline engine's drafts (no store needed)
    python bench/style_calibration.py --show 3   # also print the lowest-scoring real passages' notes
    python bench/style_calibration.py --whole    # one profile of the whole corpus (the app's; in-sample)

Groups, every text starting with its heading as a writer's section would:
* real: the dev cases' reference passages (161; the heading is not added again when the passage
  opens with it, as a run-in heading) and corpus sections (150–1,500 characters of body
  under one heading, every third one, seeds and public reports);
* lists: the dev cases' bullets as written, one per line (the writer's notes), joined with "；"
  (the eval's baseline), and as a Markdown "- " list;
* offline: the offline engine's draft of each dev case (its own document left out of retrieval).

The profile is learnt the way the app learns it (``prefer_bureau`` then ``build_profile``) but two-fold
by document: a text is scored against the profile of the half of the corpus it does not come from,
so no passage is scored against statistics counted from itself.  The offline drafts are made with a
store holding the whole corpus (bench/out/style-store, built by a real ingest when empty).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from retrieval import PUBLIC, ROOT, SEEDS, cases, pct, table

STORE = ROOT / "bench" / "out" / "style-store"
THRESHOLD_REAL = 80.0
THRESHOLD_LIST = 60.0


def corpus_chunks() -> list[Any]:
    from drafting.chunking import chunk_document, doc_id_for
    from drafting.ingest import read_manifest
    from drafting.loaders import load_file
    from drafting.structure import parse_document

    out: list[Any] = []
    for folder in (SEEDS, PUBLIC):
        hints = read_manifest(folder)
        for path in sorted(folder.glob("*.txt")):
            text = load_file(path, max_bytes=50 * 1024 * 1024).text
            parsed = parse_document(text, hints=hints.get(path.name))
            out.extend(chunk_document(parsed, doc_id=doc_id_for(text), source=str(path)))
    return out


def fold_of(source: str) -> int:
    return hashlib.sha1(Path(source).name.encode("utf-8")).digest()[0] % 2


def sections(chunks: list[Any]) -> list[tuple[str, str]]:
    """(source file, heading + body) for every third section of 150–1,500 body characters."""
    from drafting.headings import heading_level

    bodies: dict[tuple[str, tuple[str, ...]], list[tuple[int, str]]] = defaultdict(list)
    for c in chunks:
        if c.heading_path:
            bodies[(c.source, tuple(c.heading_path))].append((c.position, c.text))
    out: list[tuple[str, str]] = []
    for (source, path), parts in bodies.items():
        lines = [s.strip() for _p, t in sorted(parts) for s in t.splitlines() if s.strip()]
        body = [s for s in lines if not heading_level(s) and s != path[-1]]
        n = sum(len(s) for s in body)
        if 150 <= n <= 1500 and heading_level(path[-1]):
            out.append((source, path[-1] + "\n" + "\n".join(body)))
    return out[::3]


def offline_drafts(case_list: list[dict[str, Any]]) -> dict[str, str]:
    from drafting.drafter import DraftRequest, draft, get_engine
    from drafting.errors import DraftingError
    from drafting.evaluate import own_doc_ids
    from drafting.ingest import ingest
    from drafting.settings import get_settings
    from drafting.store import CorpusStore

    settings = get_settings(store=STORE, engine="offline")
    store = CorpusStore(settings)
    if store.count() == 0:
        t = time.perf_counter()
        report = ingest([PUBLIC, SEEDS], settings, store=store)
        print(f"built store {STORE}: {report.added} documents in {time.perf_counter() - t:.1f} s",
              file=sys.stderr)
    by_name, _issuer = own_doc_ids(store)
    engine = get_engine(settings, "offline")
    out: dict[str, str] = {}
    for case in case_list:
        own = by_name.get(str(case.get("doc", "")))
        req = DraftRequest(heading=str(case["heading"]), bullets=[str(b) for b in case["bullets"]])
        try:
            out[case["id"]] = draft(req, settings, engine=engine, store=store,
                                    exclude_doc_ids=[own] if own else []).text
        except DraftingError as exc:
            print(f"{case['id']}: {exc.help_message}", file=sys.stderr)
    return out


def auc(pos: list[float], neg: list[float]) -> float:
    """P(a random positive scores above a random negative), ties counting half (Mann–Whitney)."""
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-offline", action="store_true")
    ap.add_argument("--show", type=int, default=0)
    ap.add_argument("--whole", action="store_true",
                    help="one profile of the whole corpus, as the app learns it")
    args = ap.parse_args()

    from drafting.evaluate import baseline_text
    from drafting.style_profile import build_profile, prefer_bureau
    from drafting.style_score import conformance

    t0 = time.perf_counter()
    chunks = corpus_chunks()
    if args.whole:
        whole = build_profile(prefer_bureau(chunks), fingerprint="whole")
        profiles = {0: whole, 1: whole}
    else:
        profiles = {
            k: build_profile(prefer_bureau([c for c in chunks if fold_of(c.source) != k]),
                             fingerprint=f"fold{k}")
            for k in (0, 1)
        }
    case_list = cases()
    groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for case in case_list:
        k = fold_of(case["doc"])
        head = case["heading"]
        bullets = [b.strip() for b in case["bullets"] if b.strip()]
        ref = case["reference"]
        # some references open with their own heading (a run-in heading): do not write it twice
        groups["real: dev references"].append((k, ref if ref.startswith(head) else f"{head}\n{ref}"))
        groups["list: bullets, one per line"].append((k, head + "\n" + "\n".join(bullets)))
        groups["list: bullets joined with ；"].append((k, f"{head}\n{baseline_text(bullets)}"))
        groups["list: Markdown - list"].append((k, head + "\n" + "\n".join(f"- {b}" for b in bullets)))
    for source, text in sections(chunks):
        groups["real: corpus sections"].append((fold_of(source), text))
    if not args.no_offline:
        drafts = offline_drafts(case_list)
        for case in case_list:
            if case["id"] in drafts:
                groups["offline engine drafts"].append((fold_of(case["doc"]), drafts[case["id"]]))

    scores: dict[str, list[float]] = {}
    worst: list[tuple[float, str, list[str]]] = []
    for name, items in groups.items():
        scores[name] = []
        for k, text in items:
            res = conformance(text, profiles[k])
            scores[name].append(res.score)
            if name.startswith("real"):
                worst.append((res.score, text, res.notes))
    rows = []
    for name, xs in scores.items():
        over = sum(x >= THRESHOLD_REAL for x in xs) / len(xs)
        under = sum(x < THRESHOLD_LIST for x in xs) / len(xs)
        rows.append([name, len(xs), pct(xs, 0.25), pct(xs, 0.5), pct(xs, 0.75), min(xs), f"{over:.0%}",
                     f"{under:.0%}"])
    print(table(rows, ["group", "n", "q1", "median", "q3", "min", f"≥{THRESHOLD_REAL:.0f}",
                       f"<{THRESHOLD_LIST:.0f}"]))
    real = [x for n, xs in scores.items() if n.startswith("real") for x in xs]
    lists = [x for n, xs in scores.items() if n.startswith("list") for x in xs]
    print()
    auc_rows = [["real vs all lists", auc(real, lists)]]
    auc_rows += [[f"real vs {n[6:]}", auc(real, xs)] for n, xs in scores.items() if n.startswith("list")]
    if "offline engine drafts" in scores:
        auc_rows.append(["offline drafts vs all lists", auc(scores["offline engine drafts"], lists)])
    print(table(auc_rows, ["separation", "AUC"]))
    print(f"\n{len(real)} real passages, {len(lists)} lists; {time.perf_counter() - t0:.1f} s")
    for score, text, notes in sorted(worst, key=lambda w: w[0])[: args.show]:
        print(f"\n--- {score}: {text[:80]!r}\n  " + "\n  ".join(notes))


if __name__ == "__main__":
    main()
