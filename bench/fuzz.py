"""Bad-input fuzzing for issue #5, outside pytest: many examples per target, one table of counts.

    python bench/fuzz.py                      # 2,000 examples per target
    python bench/fuzz.py --examples 500       # quicker
    python bench/fuzz.py --only load_file     # targets whose name contains the text
    python bench/fuzz.py --seed 7             # another reproducible run (default seed 0)

The strategies are the ones in tests/test_fuzz.py.  Every input must end in a success or in a
DraftingError whose Chinese help_message says what to do (请…); anything else is a crash, and a
broken invariant (lost text, chunk over budget) is counted as a crash too.  Exit code 1 if any.
Results are recorded in docs/reliability.md ("Bad input").
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from drafting.errors import DraftingError
from tests import test_fuzz as T

logging.getLogger("pypdf").disabled = True  # pypdf logs every odd font encoding at ERROR level


class Tally:
    def __init__(self, name: str) -> None:
        self.name = name
        self.counts: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()  # error class names and crash types
        self.examples: list[str] = []
        self.seconds = 0.0

    def run(self, fn: Callable[[], Any]) -> None:
        self.counts["tried"] += 1
        try:
            fn()
        except DraftingError as exc:
            msg = exc.help_message
            if T.CJK.search(msg) and "请" in msg:
                self.counts["clean errors"] += 1
                self.kinds[type(exc).__name__] += 1
            else:
                self.counts["unclear errors"] += 1
                self.examples.append(f"unclear message: {msg!r}")
            return
        except Exception as exc:  # noqa: BLE001 - a crash is what we count
            self.counts["crashes"] += 1
            self.kinds[f"crash {type(exc).__name__}"] += 1
            if len(self.examples) < 5:
                self.examples.append("".join(traceback.format_exception_only(exc)).strip()[:300])
            return
        self.counts["successes"] += 1


def fuzz(
    tally: Tally, strategy: st.SearchStrategy[Any], body: Callable[[Any], Any], n: int, rng_seed: int
) -> None:
    @seed(rng_seed)
    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def target(value: Any) -> None:
        tally.run(lambda: body(value))

    start = time.perf_counter()
    target()
    tally.seconds = time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--examples", type=int, default=2000, help="examples per target")
    ap.add_argument("--only", default="", help="run targets whose name contains this")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from drafting.drafter import DraftRequest, draft, get_engine
    from drafting.guard import check_figures
    from drafting.ingest import ingest
    from drafting.loaders import load_file
    from drafting.settings import get_settings
    from drafting.store import CorpusStore

    tmp = Path(tempfile.mkdtemp(prefix="fuzz-"))

    def load(pair: tuple[str, bytes]) -> Any:
        suffix, data = pair
        path = tmp / ("fuzz" + suffix)
        path.write_bytes(data)
        return load_file(path, max_bytes=T.LIMIT)

    store_state: dict[str, Any] = {}

    def drafting_store() -> tuple[Any, Any]:
        if not store_state:
            settings = get_settings(store=tmp / "store", engine="offline")
            ingest([T.SEEDS], settings)
            store_state["s"] = (settings, CorpusStore(settings))
        return store_state["s"]

    def run_draft(req: DraftRequest) -> Any:
        settings, store = drafting_store()
        result = draft(req, settings, store=store, engine=get_engine(settings, "offline"))
        assert result.status in ("ok", "needs_review")
        result.to_json()
        return result

    def figures(value: tuple[str, list[str], list[Any]]) -> Any:
        text, bullets, rows = value
        req = DraftRequest("", bullets, rows)
        return check_figures(text + "\n" + "\n".join(bullets), req.provided_text(), pairs=req.pairs())

    mutated = st.sampled_from([".docx", ".pdf", ".txt", ".md"]).flatmap(
        lambda s: st.tuples(st.just(s), T.mutated(s))
    )
    targets: list[tuple[str, st.SearchStrategy[Any], Callable[[Any], Any]]] = [
        ("load_file: random bytes × suffix", st.tuples(st.sampled_from(T.SUFFIXES), T.random_bytes), load),
        ("load_file: mutated docx/pdf/txt/md", mutated, load),
        (
            "parse_document + chunk_document",
            st.tuples(T.any_text, st.sampled_from([30, 120, 360])),
            lambda v: T.parse_and_chunk(*v),
        ),
        ("DraftRequest → draft() (offline engine)", T.draft_requests, run_draft),
        (
            "check_figures: text, bullets, rows",
            st.tuples(st.text(max_size=400), st.lists(T._bullet, max_size=6), st.lists(T._row, max_size=4)),
            figures,
        ),
    ]

    rows = []
    failed = False
    for name, strategy, body in targets:
        if args.only and args.only not in name:
            continue
        tally = Tally(name)
        fuzz(tally, strategy, body, args.examples, args.seed)
        c = tally.counts
        rows.append(
            (
                name,
                c["tried"],
                c["clean errors"],
                c["successes"],
                c["crashes"],
                c["unclear errors"],
                f"{tally.seconds:.0f}",
            )
        )
        print(f"{name}: {dict(c)}  errors by type: {dict(tally.kinds)}", file=sys.stderr, flush=True)
        for example in tally.examples:
            print(f"    {example}", file=sys.stderr)
        failed |= bool(c["crashes"] or c["unclear errors"])

    head = ("target", "inputs tried", "clean errors", "successes", "crashes", "unclear errors", "seconds")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(str(x) for x in row) + " |")
    total = [sum(r[i] for r in rows) for i in range(1, 6)]
    print("| **total** | " + " | ".join(str(x) for x in total) + " | |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
