"""Memory at scale (issue #14).  Prints tables; results are recorded in docs/benchmarks.md.

    # the 语料库 tab's upload of an N× corpus, peak per stage
    python bench/memory.py upload --factor 10 [--keep DIR]
    # RSS of each part, each loaded alone in a fresh process
    python bench/memory.py parts --store DIR

``upload`` builds the synthetic N× corpus the way ``bench/retrieval.py scale`` does (every digit
randomised, region names altered), seeds a store with corpus/, then in a fresh process builds and
launches the app and calls the handler the 导入语料库 button is wired to (as ``bench/ui.py ingest``).
A sampling thread reads VmRSS every 0.1 s and charges it to the stage running at that moment (the
main ingest loop, the keyword index sync, the ledger sync, the tab's refreshed views, the style
profile); VmHWM gives the overall peak.  Stages shorter than 0.1 s can be missed by the sampler,
never by VmHWM.

``parts`` opens an existing store in fresh processes: one baseline process (the app's imports), then
one process per part that loads only that part, so each row is what the part costs alone.  Every
figure is VmRSS from /proc (psutil is not a dependency).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# bench/drafting.py would shadow the package: the project root first, bench/ last
sys.path[:] = (
    [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"] + [str(ROOT / "bench")]
)
import drafting  # noqa: F401 - the package, before bench/ui.py puts bench/ first again

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from retrieval import SEEDS, case_query, cases, make_synthetic, table
from ui import launched_app, rss_mb, rss_split

MACHINE = ("Machine: 2 cores shared with other engineers' work during this run; "
           "RSS is per process, from /proc.")


# ---- sampling ---------------------------------------------------------------------------------
class StageSampler:
    """Charge each VmRSS sample (every ``interval`` s) to the innermost stage running."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.stack: list[str] = ["(outside any stage)"]
        self.peaks: dict[str, float] = {}
        self.entry: dict[str, float] = {}  # RSS when the stage was first entered
        self.order: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            rss = rss_mb()[0]
            name = self.stack[-1]
            self.peaks[name] = max(self.peaks.get(name, 0.0), rss)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def wrap(self, owner: Any, attr: str, name: str) -> None:
        """Replace ``owner.attr`` by a function that runs it as stage ``name`` (instrumentation only)."""
        fn = getattr(owner, attr)
        sampler = self

        def staged(*args: Any, **kwargs: Any) -> Any:
            before = rss_mb()[0]
            if name not in sampler.order:
                sampler.order.append(name)
                sampler.entry[name] = before
            sampler.stack.append(name)
            sampler.peaks[name] = max(sampler.peaks.get(name, 0.0), before)
            try:
                return fn(*args, **kwargs)
            finally:
                sampler.peaks[name] = max(sampler.peaks[name], rss_mb()[0])
                sampler.stack.pop()

        setattr(owner, attr, staged)


def upload_child(store: Path, data: Path, corpus: Path) -> None:
    """Fresh process: launch the app as app.py does, then call the upload handler with the corpus."""
    import gc

    from drafting.settings import offline_environment

    offline_environment()
    from drafting import drafter as drafter_mod
    from drafting.store import CorpusStore
    from drafting.ui import corpus_tab

    sampler = StageSampler()
    sampler.wrap(CorpusStore, "add_chunks", "ingest: Chroma writes")
    sampler.wrap(CorpusStore, "sync_keyword", "ingest: keyword index sync (bm25s)")
    sampler.wrap(CorpusStore, "sync_ledger", "ingest: ledger sync")
    sampler.wrap(corpus_tab, "ingest", "ingest (whole call)")
    sampler.wrap(drafter_mod, "load_or_build", "view: style profile (rebuilt from every chunk)")
    sampler.wrap(corpus_tab.CorpusTab, "view", "view: document table + style (after ingest)")
    demo, ctx, upload = launched_app(store, data)
    files = [str(p) for p in sorted(corpus.iterdir())]
    out: dict[str, Any] = {"files": len(files), "idle": rss_mb()[0]}
    sampler.peaks.clear()
    sampler.entry.clear()
    sampler.order.clear()
    sampler.start()
    t = time.perf_counter()
    result = upload(files, None, progress=lambda *_a, **_k: None)
    out["seconds"] = time.perf_counter() - t
    sampler.stop()
    out["line"] = str(result[1])
    del result
    out["after"], out["peak"] = rss_mb()
    out["after_split"] = rss_split()
    gc.collect()
    out["after_gc"] = rss_mb()[0]
    from drafting.search import search

    store_obj = ctx.store()
    for q in [case_query(c) for c in cases()[:20]]:
        search(store_obj, q, k=5)
    out["after_search"] = rss_mb()[0]
    out["search_split"] = rss_split()
    out["docs"], out["chunks"] = len(store_obj.documents()), store_obj.count()
    out["stages"] = [[name, sampler.entry[name], sampler.peaks.get(name, 0.0)] for name in sampler.order]
    demo.close()
    print("RESULT " + json.dumps(out, ensure_ascii=False), flush=True)


def seeded_store(work: Path) -> Path:
    from drafting.ingest import ingest
    from drafting.settings import get_settings

    store = work / "store"
    ingest([SEEDS], get_settings(store=store))
    return store


def bench_upload(factor: int, keep: Path | None) -> None:
    work = Path(tempfile.mkdtemp(prefix="drafting-mem-bench-"))
    try:
        corpus = work / f"synthetic{factor}"
        make_synthetic(corpus, factor)
        store = seeded_store(work)
        cmd = [sys.executable, str(Path(__file__).resolve()), "_upload", "--store", str(store), "--data",
               str(work / "data"), "--corpus", str(corpus)]
        env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost"}
        proc = subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True, env=env)
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if proc.returncode or line is None:
            raise SystemExit(
                f"upload failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        r = json.loads(line[len("RESULT "):])
        print(f"{factor}x upload: {r['files']} files in {r['seconds']:.0f} s → {r['docs']} documents, "
              f"{r['chunks']} chunks; {r['line']}")
        rows = [["idle before the upload", f"{r['idle']:.0f}", ""]]
        rows += [[f"  {name} (RSS on entry → peak while running)", f"{entry:.0f}", f"{peak:.0f}"]
                 for name, entry, peak in r["stages"]]
        rows += [["after the upload (VmRSS; peak = VmHWM of the process)",
                  f"{r['after']:.0f}", f"{r['peak']:.0f}"],
                 ["    of which anonymous / file-backed (RssAnon / RssFile)",
                  "{:.0f} / {:.0f}".format(*r["after_split"]), ""],
                 ["  after gc.collect()", f"{r['after_gc']:.0f}", ""],
                 ["  after 20 searches", f"{r['after_search']:.0f}", ""],
                 ["    of which anonymous / file-backed (RssAnon / RssFile)",
                  "{:.0f} / {:.0f}".format(*r["search_split"]), ""]]
        print(table(rows, ["app process, moment", "RSS MiB", "peak MiB"]))
        print(MACHINE)
        if keep is not None:
            if keep.exists():
                shutil.rmtree(keep)
            shutil.copytree(store, keep)
            print(f"store kept in {keep}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---- parts ------------------------------------------------------------------------------------
PARTS = {
    "baseline": "the app's imports (drafting.ui.app, chromadb, bm25s, numpy, gradio)",
    "jieba": "jieba's dictionary (textseg.tokenizer)",
    "chroma_open": "Chroma client + collection opened (CorpusStore)",
    "chroma_hnsw": "Chroma after one dense query (HNSW index loaded)",
    "chroma_get": "Chroma after reading every chunk's metadata (documents()), objects dropped",
    "keyword": "keyword index loaded (bm25s matrix, vocabulary, chunk ids and filters)",
    "ledger": "figure ledger (SQLite file: the connection + 20 draft checks)",
    "style": "style profile from <store>/style.json",
    "app": "everything the app holds after warm-up + 20 searches",
}


def part_child(store: Path, part: str) -> None:
    import gc

    from drafting.settings import get_settings, offline_environment

    offline_environment()
    import drafting.ui.app  # noqa: F401 - the app's imports are the baseline
    from drafting.store import CorpusStore

    settings = get_settings(store=store)
    gc.collect()
    base = rss_mb()[0]
    hold: list[Any] = []
    if part == "jieba":
        from drafting import textseg

        hold.append(textseg.tokenizer())
    elif part.startswith("chroma") or part == "app":
        st = CorpusStore(settings)
        hold.append(st)
        if part in ("chroma_hnsw", "chroma_get", "app"):
            import numpy as np

            st.collection.query(query_embeddings=[np.ones(st.embedder.dim, dtype=np.float32)], n_results=5,
                                include=[])
        if part == "chroma_get":
            st.documents()
        if part == "app":
            from drafting.search import search
            from drafting.ui.common import AppContext

            ctx = AppContext.create(settings)
            ctx.warm_up()
            for q in [case_query(c) for c in cases()[:20]]:
                search(ctx.store(), q, k=5)
            hold.append(ctx)
    elif part == "keyword":
        from drafting.keyword import KeywordIndex

        hold.append(KeywordIndex.load(settings.keyword_path()))
    elif part == "ledger":
        # the ledger lives in SQLite: what it holds is the connection plus what one draft's check reads
        from drafting.ledger import Ledger, check_ledger

        ledger = Ledger.load(settings.ledger_path())
        hold.append(ledger)
        for q in [case_query(c) for c in cases()[:20]]:
            check_ledger(ledger, q, year=2024)
    elif part == "style":
        from drafting.style import STYLE_FILE, StyleProfile

        path = settings.store_path() / STYLE_FILE
        hold.append(
            StyleProfile.from_json(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else None
        )
    gc.collect()
    _release()
    after, peak = rss_mb()
    print("RESULT " + json.dumps({"base": base, "after": after, "peak": peak}), flush=True)


def _release() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def bench_parts(store: Path, only: list[str]) -> None:
    rows = []
    for part, what in PARTS.items():
        if only and part not in only and part != "baseline":
            continue
        cmd = [sys.executable, str(Path(__file__).resolve()), "_part", part, "--store", str(store)]
        proc = subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True)
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if proc.returncode or line is None:
            raise SystemExit(f"part {part} failed:\n{proc.stderr[-3000:]}")
        r = json.loads(line[len("RESULT "):])
        delta = r["after"] - r["base"]
        rows.append([what, f"{r['base']:.0f}" if part == "baseline" else f"+{delta:.0f}", f"{r['peak']:.0f}"])
        print(f"  {part}: {rows[-1][1]} MiB", flush=True)
    from drafting.settings import get_settings
    from drafting.store import CorpusStore

    st = CorpusStore(get_settings(store=store))
    n = st.count()
    dim = st.embedder.dim
    size = sum(p.stat().st_size for p in store.rglob("*") if p.is_file()) / 2**20
    print(f"\nStore {store}: {n} chunks, embedding dim {dim}, {size:.0f} MiB on disk "
          f"(raw vectors alone: {n * dim * 4 / 2**20:.0f} MiB)")
    print(table(rows, ["part (each loaded alone in a fresh process)", "RSS MiB (+ over baseline)",
                       "process peak"]))
    print(MACHINE)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["upload", "parts", "_upload", "_part"])
    ap.add_argument("part", nargs="?")
    ap.add_argument("--factor", type=int, default=10)
    ap.add_argument("--store", type=Path)
    ap.add_argument("--data", type=Path)
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--keep", type=Path, help="upload: keep the resulting store here (for `parts`)")
    ap.add_argument("--only", default="",
                    help="parts: comma-separated parts (default all): " + ",".join(PARTS))
    a = ap.parse_args()
    if a.what == "_upload":
        upload_child(a.store, a.data, a.corpus)
    elif a.what == "_part":
        part_child(a.store, a.part)
    elif a.what == "upload":
        print(MACHINE, flush=True)
        bench_upload(a.factor, a.keep)
    else:
        bench_parts(a.store, [x for x in a.only.split(",") if x])


if __name__ == "__main__":
    main()
