"""The ledger's lookup cost on a large store, the SQLite ledger against the release's in-memory one,
side by side in one process (issue #14: the ledger moved out of memory).

    PYTHONPATH=. python bench/ledger_scale.py --store S --against /tmp/rel-old [--passages 60]

``S`` is a store this code has synced (e.g. the 100× store ``bench/memory.py upload --keep S`` leaves).
The release's ``Ledger`` (6ea725a: every fact an object, indexed by unit and year) is imported from the
old tree and filled with the same facts read from ``S``'s SQLite file; each passage (a stored chunk
with figures) is then checked as a draft by both, alternately, with no issuer (the bench's synthetic
documents carry none: every fact of a unit and year is a candidate, the worst case) and with the
house issuer.  Prints median and p95 milliseconds per check, the findings compared, and the RSS each
ledger adds.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drafting.ledger import check_ledger
from drafting.settings import get_settings
from drafting.store import CorpusStore

sys.path.insert(0, str(ROOT / "bench"))  # after the package: bench/drafting.py would shadow it

from retrieval import table
from ui import rss_mb


def _old_module(tree: Path) -> object:
    spec = importlib.util.spec_from_file_location("old_ledger", tree / "drafting" / "ledger.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["old_ledger"] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--against", type=Path, required=True, help="the release's tree (git archive 6ea725a)")
    ap.add_argument("--passages", type=int, default=60)
    args = ap.parse_args()
    store = CorpusStore(get_settings(store=args.store))
    new = store.ledger()
    house = new.issuer_counts().most_common(1)[0][0] if new.issuer_counts() else None
    old_mod = _old_module(args.against)
    base = rss_mb()[0]
    by_chunk: dict[str, list[object]] = {}
    for f in new.iter_facts():
        by_chunk.setdefault(f.chunk_id, []).append(old_mod.LedgerFact(**{  # type: ignore[attr-defined]
            k: getattr(f, k) for k in f.__slots__ if k not in ("start", "end", "last")}))
    old = old_mod.Ledger(by_chunk, new.fingerprint)  # type: ignore[attr-defined]
    del by_chunk
    old_mb = rss_mb()[0] - base
    ids = random.Random(7).sample(new.chunk_ids(), args.passages)
    chunks = [c for c, _e in store.get_chunks(ids).values()]
    rows = []
    for label, issuer in (("no issuer (worst case)", None), (f"house issuer ({house})", house)):
        times: dict[str, list[float]] = {"old": [], "new": []}
        same = 0
        for c in chunks:
            out = {}
            pairs = (("old", old, old_mod.check_ledger), ("new", new, check_ledger))  # type: ignore[attr-defined]
            for name, ledger, check in pairs if len(times["old"]) % 2 else pairs[::-1]:
                t = time.perf_counter()
                found = check(ledger, c.text, year=c.year, issuer=issuer, exclude_doc_ids=[c.doc_id])
                times[name].append((time.perf_counter() - t) * 1000)
                out[name] = sorted((f.kind, f.raw, f.source.doc_id, f.source.raw) for f in found)
            same += out["old"] == out["new"]
        for name in ("old", "new"):
            ts = sorted(times[name])
            p95 = ts[int(len(ts) * 0.95)]
            rows.append([label, "release (objects)" if name == "old" else "SQLite",
                         f"{statistics.median(ts):.1f}", f"{p95:.1f}", f"{same}/{len(chunks)}"])
    print(f"store {args.store}: {len(new):,} facts; the release's ledger adds {old_mb:,.0f} MiB "
          "resident in this process, the SQLite one only its connection")
    print(table(rows, ["checks", "ledger", "median ms", "p95 ms", "same findings"]))


if __name__ == "__main__":
    main()
