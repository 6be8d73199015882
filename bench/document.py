"""Whole documents: outline mining and the document view against document size.

    python bench/document.py --store /tmp/store     # a store holding the seeds (+ the public corpus)

Prints a table: time to propose an outline for each document type (the store's past documents read
once per call), and time to build the document view (every node's accepted version re-checked with
its sources, plus the cross-section checks) for documents of 5 / 20 / 50 drafted sections.  Each figure
is the best of ``--runs`` runs.  Results are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drafting.document import Document, Node, document_view
from drafting.drafter import DraftRequest, request_json
from drafting.history import History
from drafting.outline import DOC_TYPES, propose
from drafting.settings import get_settings
from drafting.store import CorpusStore

TEXT = ("全年新开工保障性住房{n}套，完成老旧小区改造{m}个，惠及居民3200户。坚持以人民为中心的发展思想，"
        "深入推进城市更新，新增公共停车泊位1.2万个。\n")


def best(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    out = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True, type=Path)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    settings = get_settings(store=args.store)
    store = CorpusStore(settings)
    print(f"store: {len(store.documents())} documents, {store.count()} chunks\n")
    print("| outline for | past documents mined | seconds |\n| --- | ---: | ---: |")
    for doc_type in DOC_TYPES:
        outline = propose(store, settings, doc_type, "2024年" + doc_type)
        seconds = best(lambda t=doc_type: propose(store, settings, t, "2024年" + t), args.runs)
        print(f"| {doc_type} | {len(outline.basis)} | {seconds:.3f} |")
    print("\n| drafted sections | versions per section | document view (s) | per section (ms) |\n| ---: | "
          "---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        history = History(Path(tmp) / "h.sqlite3")
        for n in (5, 20, 50):
            nodes = [Node(1, "工作开展情况")] + [Node(2, f"第{i}项工作") for i in range(1, n)]
            doc = Document("工作总结", "2024年工作总结", nodes=nodes)
            for i, node in enumerate(doc.nodes):
                text = TEXT.format(n=1000 + i, m=100 + i) * 3
                req = DraftRequest(heading=node.text, bullets=[f"新开工保障性住房{1000 + i}套",
                                                               f"完成老旧小区改造{100 + i}个"])
                for _v in range(3):
                    history.save("bench", session=node.session, kind="draft", heading=node.text, text=text,
                                 engine="offline", inputs=request_json(req), checks={"status": "ok"})
            seconds = best(lambda d=doc: document_view(history, "bench", d).findings(), args.runs)
            print(f"| {n} | 3 | {seconds:.3f} | {seconds / n * 1000:.1f} |")


if __name__ == "__main__":
    main()
