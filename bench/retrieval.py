"""Retrieval benchmarks for issue #2.  Prints tables; results are recorded in docs/benchmarks.md.

    python bench/retrieval.py ingest          # cold-process ingest of public corpus + seeds, stage times
    python bench/retrieval.py latency         # in-process hybrid search p50/p95
    python bench/retrieval.py quality         # same_series@5 and MRR vs two peer designs, same embedder
    python bench/retrieval.py scale --factor 100   # synthetic corpus, ingest time and search p95
    python bench/retrieval.py scale --factor 100 --server   # the same against a `chroma run` server
    python bench/retrieval.py dims --dims 768,384,256  # ours at each hashed-embedding dimension, side by side
    python bench/retrieval.py all             # ingest, latency, quality
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The shared corpus and dev cases: DRAFTING_SHARED, else ``shared/`` beside the checkout.
SHARED = Path(os.environ.get("DRAFTING_SHARED") or ROOT.parent / "shared").resolve()
if not (SHARED / "corpus" / "public").is_dir():
    sys.exit(
        f"找不到共享语料 {SHARED / 'corpus' / 'public'}："
        "请把 DRAFTING_SHARED 设为含 corpus/ 和 eval/ 的文件夹"
        f"（例如 DRAFTING_SHARED=../shared python bench/retrieval.py …）。\n"
        f"bench: shared corpus not found at {SHARED}; "
        "set DRAFTING_SHARED to the folder holding corpus/ and eval/."
    )
PUBLIC = SHARED / "corpus" / "public"
SEEDS = ROOT / "corpus"
CASES = SHARED / "eval" / "dev-cases.jsonl"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def table(rows: list[list[Any]], header: list[str]) -> str:
    cells = [header] + [[f"{c:.3f}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def cases() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]


def case_query(c: dict[str, Any]) -> str:
    heading = re.sub(r"^[（(]?[一二三四五六七八九十\d]+[)）、.．]\s*", "", c["heading"])
    return heading + "\n" + "\n".join(c["bullets"])


def salt_hashing() -> None:
    """With DRAFTING_BENCH_SALT set, hash the embedder's features with that salt (bench only): the
    spread of the quality over salts is the noise floor of a comparison between dimensions."""
    bigram = os.environ.get("DRAFTING_BENCH_BIGRAM")
    if bigram:
        from drafting import embedder as emb

        emb.BIGRAM_WEIGHT = float(bigram)
    salt = os.environ.get("DRAFTING_BENCH_SALT")
    if not salt:
        return
    import hashlib

    from drafting import embedder

    def bucket(feature: str, dim: int) -> tuple[int, float]:
        h = int.from_bytes(hashlib.blake2b((salt + feature).encode(), digest_size=8).digest(), "little")
        return h % dim, 1.0 if (h >> 63) & 1 else -1.0

    embedder._bucket = bucket


# ---- ingest ---------------------------------------------------------------------------------
def ingest_child(store: str, paths: list[Path]) -> None:
    """Runs in a fresh process: import, ingest, print timings as JSON."""
    salt_hashing()
    t0 = time.perf_counter()
    from drafting.ingest import ingest
    from drafting.settings import get_settings

    t1 = time.perf_counter()
    report = ingest(paths, get_settings(store=Path(store)))
    t2 = time.perf_counter()
    print(json.dumps({"import": t1 - t0, "ingest": t2 - t1, "timings": report.timings,
                      "chunks": report.chunks, "docs": report.added}))


def run_ingest(store: Path, paths: list[Path] | None = None) -> dict[str, Any]:
    t0 = time.perf_counter()
    args = [sys.executable, __file__, "_ingest_child", str(store)]
    if paths:
        args += ["--paths", *map(str, paths)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - t0
    data = json.loads(out.strip().splitlines()[-1])
    data["wall"] = wall
    return data


def bench_ingest(runs: int = 3) -> Path:
    results = []
    keep = Path(tempfile.mkdtemp(prefix="drafting-bench-"))
    for n in range(runs):
        store = keep / f"store{n}"
        results.append(run_ingest(store))
    stages = ("open", "parse", "tokenise", "embed", "worker wait", "chroma", "keyword")
    rows = [[stage, statistics.median(r["timings"].get(stage, 0.0) for r in results)] for stage in stages]
    rows.append(["python imports", statistics.median(r["import"] for r in results)])
    rows.append(["wall, cold process", statistics.median(r["wall"] for r in results)])
    print("(tokenise and embed run in a worker process, overlapped with parsing and Chroma writes in the main"
          " process; 'worker wait' is the part the main process waited for)")
    print(f"\nIngest: {results[0]['docs']} documents, {results[0]['chunks']} chunks, "
          f"median of {runs} cold runs (s)")
    print(table(rows, ["stage", "seconds"]))
    return keep / "store0"


def bench_ingest_against(old_root: Path, runs: int) -> None:
    """Cold ingest of public + seeds, this tree against another checkout (e.g. ``git archive 24ac461``),
    alternating old/new (the first of each pair alternates too), each a fresh process into an empty store."""
    walls: dict[str, list[float]] = {"old": [], "new": []}
    cpu: dict[str, list[float]] = {"old": [], "new": []}
    work = Path(tempfile.mkdtemp(prefix="drafting-ingest-ab-"))
    try:
        for n in range(runs):
            pair = [("old", old_root), ("new", ROOT)]
            for label, root in pair if n % 2 == 0 else pair[::-1]:
                store = work / f"{label}{n}"
                env = {**os.environ, "PYTHONPATH": str(root)}
                before = os.times()
                t = time.perf_counter()
                subprocess.run([sys.executable, str(root / "bench" / "retrieval.py"), "_ingest_child",
                                str(store), "--paths", str(PUBLIC), str(SEEDS)],
                               cwd=root, env=env, check=True, capture_output=True)
                walls[label].append(time.perf_counter() - t)
                after = os.times()
                cpu[label].append(after.children_user + after.children_system - before.children_user
                                  - before.children_system)
                shutil.rmtree(store, ignore_errors=True)
                print(f"  run {n + 1} {label}: {walls[label][-1]:.1f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = [[label, f"{statistics.median(walls[label]):.2f}", ", ".join(f"{w:.1f}" for w in walls[label]),
             f"{statistics.median(cpu[label]):.2f}"] for label in ("old", "new")]
    print(f"\nCold ingest of public + seeds, {runs} alternating pairs (old = {old_root})")
    print(table(rows, ["code", "median wall s", "runs (s)", "median CPU s (process + worker)"]))


# ---- latency --------------------------------------------------------------------------------
def bench_latency(store_path: Path, repeats: int = 3) -> None:
    from drafting.search import Filters, search
    from drafting.settings import get_settings
    from drafting.store import CorpusStore

    store = CorpusStore(get_settings(store=store_path))
    qs = [case_query(c) for c in cases()]
    search(store, qs[0])  # warm: keyword index load, jieba init
    times: list[float] = []
    for _ in range(repeats):
        for q in qs:
            t = time.perf_counter()
            search(store, q, k=5, filters=Filters())
            times.append((time.perf_counter() - t) * 1000)
    print(f"\nHybrid search latency, in-process, {len(times)} queries (ms)")
    print(table([["p50", pct(times, 0.5)], ["p95", pct(times, 0.95)], ["max", max(times)]], ["stat", "ms"]))


# ---- quality --------------------------------------------------------------------------------
def _metrics(
    ranked_regions: list[list[str]], regions: list[str], eligible: list[bool]
) -> tuple[float, float, float, int]:
    hit5 = prec5 = rr = 0.0
    n = 0
    for got, want, ok in zip(ranked_regions, regions, eligible, strict=True):
        if not ok:
            continue
        n += 1
        hit5 += any(r == want for r in got[:5])
        prec5 += sum(r == want for r in got[:5]) / 5
        first = next((i for i, r in enumerate(got) if r == want), None)
        rr += 0 if first is None else 1 / (first + 1)
    return hit5 / n, prec5 / n, rr / n, n


def bench_quality(store_path: Path) -> None:
    import chromadb
    import numpy as np
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from drafting import textseg
    from drafting.embedder import HashedChineseEmbedding
    from drafting.ingest import read_manifest
    from drafting.keyword import ChunkFacts, KeywordIndex
    from drafting.loaders import load_file
    from drafting.search import Filters, rrf, search
    from drafting.settings import get_settings
    from drafting.store import CorpusStore

    settings = get_settings(store=store_path)
    store = CorpusStore(settings)
    ef = HashedChineseEmbedding(dim=settings.embed_dim)
    cs = cases()
    docs = store.documents()
    by_file = {Path(d.source).name: d for d in docs}
    region_of_doc = {d.doc_id: d.issuer for d in docs}
    regions = [c["region"] for c in cs]
    eligible = [sum(1 for d in docs if d.issuer == c["region"] and Path(d.source).name != c["doc"]) > 0
                for c in cs]
    queries = [case_query(c) for c in cs]

    # ours
    ours: list[list[str]] = []
    for c, q in zip(cs, queries, strict=True):
        own = by_file[c["doc"]].doc_id
        hits = search(store, q, k=20, filters=Filters(exclude_doc_ids=[own]))
        ours.append([region_of_doc[h.chunk.doc_id] for h in hits])

    # peers share one raw-text corpus
    hints = {**read_manifest(PUBLIC), **read_manifest(SEEDS)}
    raw: list[tuple[str, str, str]] = []  # (file, region, text)
    for folder in (PUBLIC, SEEDS):
        for p in sorted(folder.glob("*.txt")):
            raw.append((p.name, hints[p.name].issuer if p.name in hints else "",
                        load_file(p, max_bytes=10**8).text))
    client = chromadb.EphemeralClient()

    def build_peer(name: str, size: int, overlap: int) -> tuple[Any, list[str], list[dict[str, str]]]:
        splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=overlap)
        texts, metas = [], []
        for fname, region, text in raw:
            for piece in splitter.split_text(text):
                texts.append(piece)
                metas.append({"file": fname, "region": region})
        col = client.create_collection(
            name, embedding_function=ef, configuration={"hnsw": {"space": "cosine"}})
        emb = ef.embed_tokens(texts, [textseg.words(t) for t in texts])
        for s in range(0, len(texts), 4000):
            col.add(ids=[f"{name}-{i}" for i in range(s, min(s + 4000, len(texts)))],
                    documents=texts[s:s + 4000], metadatas=metas[s:s + 4000], embeddings=emb[s:s + 4000])
        return col, texts, metas

    lc_col, _lt, _lm = build_peer("langchain_default", 500, 50)
    lc: list[list[str]] = []
    for c, q in zip(cs, queries, strict=True):
        res = lc_col.query(query_embeddings=[ef([q])[0]], n_results=20, where={"file": {"$ne": c["doc"]}},
                           include=["metadatas"])
        lc.append([m["region"] for m in res["metadatas"][0]])

    cc_col, cc_texts, cc_metas = build_peer("chatchat", 750, 150)
    ids = [f"chatchat-{i}" for i in range(len(cc_texts))]
    kw = KeywordIndex.build(ChunkFacts(ids, [m["file"] for m in cc_metas], [0] * len(ids),
                                       [m["region"] for m in cc_metas], [""] * len(ids)),
                            [textseg.keyword_tokens(t) for t in cc_texts])
    meta_of = dict(zip(ids, cc_metas, strict=True))
    cc: list[list[str]] = []
    for c, q in zip(cs, queries, strict=True):
        res = cc_col.query(query_embeddings=[ef([q])[0]], n_results=40, where={"file": {"$ne": c["doc"]}},
                           include=[])
        mask = np.asarray([m["file"] != c["doc"] for m in cc_metas])
        kws = [cid for cid, _s in kw.search(textseg.keyword_tokens(q), 40, mask)]
        fused = rrf([(list(res["ids"][0]), 0.5), (kws, 0.5)], 60)
        order = sorted(fused, key=lambda x: -fused[x])[:20]
        cc.append([meta_of[i]["region"] for i in order])

    rows = []
    for name, ranked in [("drafting (ours): 公文 sections, hybrid RRF + MMR", ours),
                         ("LangChain default: RCTS 500/50, vector-only Chroma", lc),
                         ("Langchain-Chatchat: 750/150, jieba BM25 0.5 + dense 0.5", cc)]:
        h5, p5, mrr, n = _metrics(ranked, regions, eligible)
        rows.append([name, h5, p5, mrr, n])
    print(f"\nRetrieval quality on {CASES.name} (query = heading + bullets, own document excluded)")
    print(table(rows, ["design", "same_series@5", "same-body share of top 5", "MRR", "cases"]))


def ours_ranked(store_path: Path) -> tuple[list[list[str]], list[str], list[bool]]:
    """Our search on each dev case (own document excluded): the regions of the top 20, the wanted
    region, and whether the case is eligible (its region has another document in the store)."""
    from drafting.search import Filters, search
    from drafting.settings import get_settings
    from drafting.store import CorpusStore

    store = CorpusStore(get_settings(store=store_path))
    cs = cases()
    docs = store.documents()
    by_file = {Path(d.source).name: d for d in docs}
    region_of_doc = {d.doc_id: d.issuer for d in docs}
    ranked = []
    for c in cs:
        hits = search(store, case_query(c), k=20, filters=Filters(exclude_doc_ids=[by_file[c["doc"]].doc_id]))
        ranked.append([region_of_doc[h.chunk.doc_id] for h in hits])
    eligible = [sum(1 for d in docs if d.issuer == c["region"] and Path(d.source).name != c["doc"]) > 0
                for c in cs]
    return ranked, [c["region"] for c in cs], eligible


def bench_dims(dims: list[int], salts: list[str]) -> None:
    """Our retrieval quality with the built-in embedder at each dimension, every store built in this run;
    with ``salts``, once per hash salt as well (the spread is the comparison's noise floor)."""
    if salts:
        rows = []
        for salt in salts:
            os.environ["DRAFTING_BENCH_SALT"] = salt
            salt_hashing()
            for d in dims:
                work = Path(tempfile.mkdtemp(prefix="drafting-dims-"))
                os.environ["DRAFTING_EMBED_DIM"] = str(d)
                try:
                    run_ingest(work / "store")
                    rows.append([salt or "(none)", d, *_metrics(*ours_ranked(work / "store"))[:3]])
                finally:
                    os.environ.pop("DRAFTING_EMBED_DIM", None)
                    shutil.rmtree(work, ignore_errors=True)
                print(table(rows, ["hash salt", "dim", "same_series@5", "same-body share", "MRR"]),
                      flush=True)
        return
    work = Path(tempfile.mkdtemp(prefix="drafting-dims-"))
    try:
        cols: list[list[Any]] = []
        for d in dims:
            store = work / f"store{d}"
            os.environ["DRAFTING_EMBED_DIM"] = str(d)
            try:
                r = run_ingest(store)
                cols.append([d, *_metrics(*ours_ranked(store))[:3], r["wall"]])
            finally:
                os.environ.pop("DRAFTING_EMBED_DIM", None)
            print(f"  dim {d}: done", flush=True)
        rows = [[name, *(c[i] for c in cols)] for i, name in
                [(1, "same_series@5"), (2, "same-body share of top 5"), (3, "MRR"),
                 (4, "cold ingest wall s (one run)")]]
        print(f"\nRetrieval quality by hashed-embedding dimension on {CASES.name} (ours, same run)")
        print(table(rows, ["metric", *(f"dim {c[0]}" for c in cols)]))
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---- scale ----------------------------------------------------------------------------------
_REGION = re.compile(
    r"(驻马店|海拉尔|呼伦贝尔|上海|崇明|松江|奉贤|闵行|云南|吉林|四川|天津|宁夏|安徽|山东|山西|"
    r"广西|新疆|江西|河北|河南|海南|湖北|甘肃|福建|西藏|辽宁|陕西|黑龙江|内蒙古)")


def make_synthetic(dst: Path, factor: int) -> None:
    rng = random.Random(7)
    dst.mkdir(parents=True, exist_ok=True)
    sources = sorted(PUBLIC.glob("*.txt")) + sorted(SEEDS.glob("*.txt"))
    texts = [p.read_text(encoding="utf-8") for p in sources]
    for copy in range(factor):
        for p, text in zip(sources, texts, strict=True):
            alt = re.sub(r"\d", lambda _m: str(rng.randint(0, 9)), text)
            alt = _REGION.sub(lambda m, c=copy: m.group(1)[0] + f"第{c}", alt)
            (dst / f"{copy:03d}-{p.stem}.txt").write_text(alt, encoding="utf-8")


class _ChromaServer:
    """`chroma run` on a free loopback port, for the server-mode scale run."""

    def __init__(self, data: Path) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        exe = Path(sys.executable).parent / "chroma"
        self.proc = subprocess.Popen([str(exe), "run", "--path", str(data), "--host", "127.0.0.1",
                                      "--port", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        import urllib.request

        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("chroma run did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)


def bench_scale(factor: int, server: bool = False) -> None:
    work = Path(tempfile.mkdtemp(prefix="drafting-scale-"))
    rows = []
    mode = "chroma run (HTTP, 127.0.0.1)" if server else "PersistentClient (in-process)"
    print(f"Scale, store: {mode}", flush=True)
    try:
        for f in sorted({1, max(1, factor // 10), factor}):
            corpus = work / f"corpus{f}"
            make_synthetic(corpus, f)
            store = work / f"store{f}"
            srv = _ChromaServer(work / f"server{f}") if server else None
            if srv is not None:
                os.environ["DRAFTING_CHROMA_URL"] = srv.url
            try:
                t = time.perf_counter()
                r = run_ingest(store, [corpus])
                wall = time.perf_counter() - t
                from drafting.search import search
                from drafting.settings import get_settings
                from drafting.store import CorpusStore

                st = CorpusStore(get_settings(store=store))
                qs = [case_query(c) for c in cases()]
                search(st, qs[0])
                times = []
                for q in qs:
                    t = time.perf_counter()
                    search(st, q, k=5)
                    times.append((time.perf_counter() - t) * 1000)
            finally:
                if srv is not None:
                    srv.stop()
                    os.environ.pop("DRAFTING_CHROMA_URL", None)
            rows.append([f"{f}x", r["docs"], r["chunks"], wall, wall / f, pct(times, 0.5), pct(times, 0.95)])
            print(table(rows, ["corpus", "docs", "chunks", "ingest s", "s per 1x", "search p50 ms",
                               "search p95 ms"]), flush=True)
            shutil.rmtree(corpus)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["ingest", "latency", "quality", "scale", "dims", "all", "_ingest_child"])
    ap.add_argument("store", nargs="?")
    ap.add_argument("--factor", type=int, default=100)
    ap.add_argument("--paths", nargs="*")
    ap.add_argument("--server", action="store_true", help="scale: store in a `chroma run` server")
    ap.add_argument("--dims", default="768,384,256", help="dims: comma-separated dimensions")
    ap.add_argument("--salts", default="", help="dims: comma-separated hash salts (noise floor)")
    ap.add_argument("--against", type=Path,
                    help="ingest: compare with the checkout in this folder (alternating)")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    if a.what == "ingest" and a.against:
        bench_ingest_against(a.against.resolve(), a.runs)
        return
    if a.what == "dims":
        bench_dims([int(x) for x in a.dims.split(",")], [x for x in a.salts.split(",") if x])
        return
    if a.what == "_ingest_child":
        ingest_child(a.store, [Path(p) for p in a.paths] if a.paths else [PUBLIC, SEEDS])
        return
    if a.store and a.what in ("quality", "latency"):  # reuse an existing store
        (bench_quality if a.what == "quality" else bench_latency)(Path(a.store))
        return
    if a.what == "scale":
        bench_scale(a.factor, server=a.server)
        return
    store = bench_ingest() if a.what in ("ingest", "all", "latency", "quality") else None
    assert store is not None
    if a.what in ("latency", "all"):
        bench_latency(store)
    if a.what in ("quality", "all"):
        bench_quality(store)


if __name__ == "__main__":
    main()
