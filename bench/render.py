"""Render time of the 起草 tab's two HTML panels (annotated draft, checks panel) against text size.

    python bench/render.py                    # this tree, 25 / 50 / 100 KB and the editor limit
    python bench/render.py --old 48c2f41      # the same, beside drafting/ui/render.py as of a commit

The text repeats one paragraph with five figures (three of them not in the bullets, so marked red)
until it reaches the size in UTF-8 bytes; the checks (figure guard + terms) are computed once per size
and are not part of the time.  Each figure is the best of ``--runs`` runs.  Issue #11 found the old
panels roughly quadratic (25 KB 0.10 s, 50 KB 0.35 s); results are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PARA = ("今年以来，我局扎实推进老旧小区改造完成120个，惠及居民3.2万户，新增公共停车泊位1.2万个，"
        "同比增长8.5%，"
        "投资3.2亿元。坚持以人民为中心的发展思想，深入推进城市更新。\n")
BULLETS = "老旧小区改造完成120个，惠及居民3.2万户\n新增公共停车泊位1.2万个"


def text_of(size_bytes: int) -> str:
    return PARA * max(1, size_bytes // len(PARA.encode("utf-8")))


def old_render(ref: str) -> ModuleType:
    source = subprocess.run(["git", "show", f"{ref}:drafting/ui/render.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader("render_old", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["render_old"] = module  # dataclasses look their module up
    exec(compile(source, f"render.py@{ref}", "exec"), module.__dict__)  # noqa: S102 - our own file from git
    return module


def best(fn: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", default="", help="a git commit whose render.py to time beside this tree's")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", default="25,50,100", help="KB, comma-separated")
    args = ap.parse_args()
    from drafting.drafter import check
    from drafting.settings import get_settings
    from drafting.ui import render

    limit = get_settings().max_editor_chars
    modules = [("now", render)] + ([(args.old, old_render(args.old))] if args.old else [])
    sizes = [(f"{kb} KB", text_of(int(kb) * 1000)) for kb in args.sizes.split(",")]
    sizes.append((f"editor limit ({limit} chars)", (PARA * (limit // len(PARA) + 1))[:limit]))
    head = ("| text | chars | figures marked |"
        + "".join(f" annotated {n} s | checks {n} s |" for n, _m in modules))
    print(head)
    print("|" + "---|" * (3 + 2 * len(modules)))
    for label, text in sizes:
        guard, terms = check(text, BULLETS, [])
        row = f"| {label} | {len(text):,} | {len(guard.unverified) + len(guard.provided)} |"
        for _name, module in modules:
            a = best(lambda m=module, t=text, g=guard, ts=terms: m.annotated_html(t, g, ts), args.runs)
            c = best(lambda m=module, t=text, g=guard, ts=terms: m.checks_html(t, g, ts), args.runs)
            row += f" {a:.3f} | {c:.3f} |"
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
