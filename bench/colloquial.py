"""Colloquial → 公文 rules (issue #12): flags on the case corpus and false flags on real reports.

    python bench/colloquial.py          # the tables recorded in docs/benchmarks.md

The cases (tests/data/colloquial_cases.jsonl) are colloquial sentences as a tired writer or a speech
transcript would write them, with the flags a reviewer expects; the corpus sentences are formal
writing (the bureau's seeds and the public reports), so every flag there is counted as a false flag,
listed by rule with an example.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from retrieval import PUBLIC, ROOT, SEEDS, table

CASES = ROOT / "tests" / "data" / "colloquial_cases.jsonl"


def sentences(folder: Path) -> list[tuple[str, str]]:
    from drafting.loaders import load_file
    from drafting.sentences import split_sentences

    out = []
    for path in sorted(folder.glob("*.txt")):
        for line in load_file(path, max_bytes=50 * 1024 * 1024).text.splitlines():
            out.extend((path.name, s) for s in split_sentences(line) if s.strip())
    return out


def main() -> None:
    from drafting.colloquial import colloquial_findings, load_rules

    rules = load_rules()
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]
    expected = sum(len(c["flags"]) for c in cases)
    t = time.perf_counter()
    got = [[[f.found, f.suggest] for f in colloquial_findings(c["text"])] for c in cases]
    per_case_ms = (time.perf_counter() - t) * 1000 / len(cases)
    hits = sum(sum(1 for f in g if f in c["flags"]) for g, c in zip(got, cases, strict=True))
    extra = sum(sum(1 for f in g if f not in c["flags"]) for g, c in zip(got, cases, strict=True))
    print(table([[len(rules), len(cases), sum(1 for c in cases if c["flags"]), expected, hits, extra,
                  f"{per_case_ms:.2f}"]],
                ["rules", "case sentences", "colloquial", "expected flags", "found", "unexpected",
                 "ms/sentence"]))
    print()
    rows = []
    by_rule: Counter[str] = Counter()
    example: dict[str, str] = {}
    for name, folder in (("seeds (the bureau's own)", SEEDS), ("public reports", PUBLIC)):
        sents = sentences(folder)
        flagged = 0
        for doc, s in sents:
            found = colloquial_findings(s)
            flagged += bool(found)
            for f in found:
                by_rule[f.found if len(f.found) <= 6 else f.found[:6] + "…"] += 1
                example.setdefault(f.found, f"{doc}: …{s[max(0, f.start - 8) : f.end + 8]}…")
        rows.append([name, len(sents), flagged, f"{flagged / len(sents):.2%}"])
    print(table(rows, ["corpus", "sentences", "flagged (false flags)", "share"]))
    print()
    print(table([[w, n, example.get(w, "")] for w, n in by_rule.most_common()],
                ["flagged words", "n", "example"]))


if __name__ == "__main__":
    main()
