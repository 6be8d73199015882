"""Writers' app benchmarks for issue #4.  Prints tables; results are recorded in docs/benchmarks.md.

    python bench/ui.py                  # all three: start, drafts (+ RSS), in-process ingest at --factor 10
    python bench/ui.py start --runs 5   # `python app.py` start → HTTP 200 on / → 生成初稿 visible in Chromium
    python bench/ui.py drafts           # click 生成初稿 → first streamed text, offline and openai (stub); RSS
    python bench/ui.py ingest --factor 100   # RSS around the 语料库 tab's upload handler on an N× corpus

The app is the real one: ``python app.py`` in a subprocess with DRAFTING_STORE / DRAFTING_DATA_DIR in a
temp folder (the store is a real ingest of corpus/, done before any timing) and DRAFTING_PORT free.
The browser is Debian's Chromium through Playwright, as in tests/test_ui_browser.py; it is launched once,
before the timings.  The openai engine talks to tests/openai_stub.py on 127.0.0.1.
For the N× ingest a separate Python process builds and launches the same app (``build_app`` +
``launch_kwargs``), finds the handler the 导入语料库 button is wired to, and calls it with the synthetic
files; its own RSS is read from /proc (psutil is not a dependency).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from retrieval import SEEDS, make_synthetic, pct, table

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update", "--no-first-run"]
WAIT_MS = 120_000  # Playwright's own timeout: generous on a shared 2-core machine
MACHINE = ("Machine: 2 cores shared with other engineers' work (builds, tests, benchmarks) during this run; "
           "every time and RSS figure is an upper bound.")
BULLETS = "老旧小区改造完成120个，惠及居民3.2万户\n新增公共停车泊位1.2万个\n开展建筑工地扬尘专项整治"
TOPICS = ["城市更新", "住房保障", "建筑市场监管", "房地产市场", "物业管理", "城市建设", "村镇建设",
          "安全生产", "燃气管理", "建筑节能"]
STUB_TEXT = ("一、城市更新\n坚持问题导向，扎实推进老旧小区改造，全年完成120个，惠及居民3.2万户，"
             "群众获得感持续增强。"
             "聚焦停车难问题，新增公共停车泊位1.2万个。深入开展建筑工地扬尘专项整治，压实参建各方责任，"
             "城市环境质量明显改善。下一步，我们将继续加大工作力度，推动城市更新工作取得新成效。")
STUB_CHUNK_CHARS = 4
STUB_DELAY = 0.05  # s between deltas: 80 characters a second, a modest model server


# ---- helpers ----------------------------------------------------------------------------------
def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status_mb(pid: int | str, *keys: str) -> list[float]:
    """Fields of /proc/PID/status (kB) in MiB, in the order asked."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in keys:
            fields[key] = int(value.split()[0]) / 1024
    return [fields[k] for k in keys]


def rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MiB, from /proc/PID/status."""
    rss, hwm = _status_mb(pid, "VmRSS", "VmHWM")
    return rss, hwm


def rss_split(pid: int | str = "self") -> tuple[float, float]:
    """(RssAnon, RssFile) in MiB: heap and anonymous maps, and file-backed pages mapped in (a
    memory-mapped index's columns, libraries), which the kernel can drop and read back."""
    anon, file = _status_mb(pid, "RssAnon", "RssFile")
    return anon, file


def settle_rss(pid: int, limit: float = 60.0) -> float:
    """RSS once it has stopped moving (three 1-s samples within 2 MiB): the warm-up thread is done."""
    samples: list[float] = []
    end = time.monotonic() + limit
    while time.monotonic() < end:
        samples.append(rss_mb(pid)[0])
        if len(samples) >= 3 and max(samples[-3:]) - min(samples[-3:]) < 2.0:
            break
        time.sleep(1.0)
    return samples[-1]


def seeded_store(work: Path) -> Path:
    """A store holding a real ingest of corpus/ (outside every timing)."""
    from drafting.ingest import ingest
    from drafting.settings import get_settings

    store = work / "store"
    report = ingest([SEEDS], get_settings(store=store))
    print(f"store: {report.added} documents, {report.chunks} chunks from {SEEDS} (not timed)", flush=True)
    return store


class AppProcess:
    """``python app.py`` with its own port and data folder; ``t0`` is taken right before Popen."""

    def __init__(self, store: Path, data: Path, log: Path, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {**os.environ, "DRAFTING_STORE": str(store), "DRAFTING_DATA_DIR": str(data),
               "DRAFTING_PORT": str(self.port), "NO_PROXY": "127.0.0.1,localhost", **(extra_env or {})}
        self.log = log.open("wb")
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def since(self) -> float:
        return time.perf_counter() - self.t0

    def wait_http(self, limit: float = 180.0) -> float:
        """Seconds from Popen to the first HTTP 200 on / (polled every 50 ms)."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise SystemExit(f"app.py exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    if r.status == 200:
                        return self.since()
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"app.py did not answer on {self.url} within {limit:.0f} s; see {self.log.name}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Browser:
    """Debian Chromium, headless, launched once (outside the timings)."""

    def __enter__(self) -> Self:
        from playwright.sync_api import sync_playwright

        if not Path(CHROMIUM).exists():
            raise SystemExit(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium).")
        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        return self

    def page(self) -> tuple[Any, Any]:
        context = self.browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        return context, page

    def __exit__(self, *exc: object) -> None:
        self.browser.close()
        self._pw.stop()


def box(page: Any, elem_id: str) -> Any:
    return page.locator(f"#{elem_id} textarea, #{elem_id} input").first


def wait_text(page: Any, elem_id: str, needle: str) -> None:
    page.wait_for_function(
        "([id, needle]) => (document.getElementById(id)?.innerText || '').includes(needle)",
        arg=[elem_id, needle]
    )


def stats_row(name: str, ms: list[float]) -> list[Any]:
    return [name, len(ms), f"{pct(ms, 0.5):.0f}", f"{pct(ms, 0.95):.0f}", f"{max(ms):.0f}", f"{ms[0]:.0f}"]


# ---- 1. start ---------------------------------------------------------------------------------
def bench_start(work: Path, store: Path, browser: Browser, runs: int) -> None:
    rows: list[list[float]] = []
    for n in range(runs):
        app = AppProcess(store, work / f"start-data{n}", work / f"start{n}.log")
        context, page = browser.page()
        try:
            http = app.wait_http()
            page.goto(app.url)
            page.wait_for_selector("#draft-generate", state="visible")
            button = app.since()
            wait_text(page, "engine-info", "offline")  # the page's load events have answered
            loaded = app.since()
            rss = rss_mb(app.proc.pid)[0]
        finally:
            context.close()
            app.stop()
        rows.append([http, button, loaded, rss])
        print(f"  start run {n + 1}: HTTP 200 {http:.2f} s, button {button:.2f} s, engine status "
              f"{loaded:.2f} s, "
              f"RSS {rss:.0f} MiB", flush=True)
    med = [statistics.median(r[i] for r in rows) for i in range(4)]
    lo = [min(r[i] for r in rows) for i in range(4)]
    hi = [max(r[i] for r in rows) for i in range(4)]
    names = ["(a) Popen → HTTP 200 on /, s", "(b) Popen → 生成初稿 visible in Chromium, s",
             "(c) Popen → engine status shown (page load events done), s", "app RSS at (c), MiB"]
    print(f"\n1. App start to first page ready: `python app.py`, {runs} cold starts")
    rows_out = [[name, *(f"{v:.0f}" if "MiB" in name else f"{v:.2f}" for v in (m, a, b))]
                for name, m, a, b in zip(names, med, lo, hi, strict=True)]
    print(table(rows_out, ["measure", "median", "min", "max"]), flush=True)


# ---- 2. drafts --------------------------------------------------------------------------------
ARM = """heading => {
  const t = window.__bench = {click: null, first: null, done: null, error: null};
  const chat = document.getElementById('draft-chat');
  const status = document.getElementById('draft-status');
  const before = status.textContent;
  const onClick = e => { if (e.target.closest('#draft-generate') && t.click === null) t.click = \
performance.now(); };
  document.addEventListener('click', onClick, {capture: true});
  const check = () => {
    const user = chat.querySelector('[data-testid=user]');
    const bot = chat.querySelector('[data-testid=bot]');
    if (t.first === null && user && bot && user.textContent.includes('【标题】' + heading + '\\n')) {
      const text = bot.textContent.trim();
      if (text && !text.includes('正在检索往年材料')) t.first = performance.now();
    }
    const now = status.textContent;
    if (t.first !== null && now !== before && now.includes('已自动保存为版本')) t.done = performance.now();
    if (now !== before && now.includes('出错')) t.error = now;
    if (t.done !== null || t.error !== null) { obs.disconnect(); document.removeEventListener('click', \
onClick, true); }
  };
  const obs = new MutationObserver(check);
  obs.observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def one_draft(page: Any, heading: str) -> tuple[float, float]:
    """(click → first draft text in the chat, click → draft saved) in ms, timed in the page."""
    box(page, "draft-heading").fill(heading)
    box(page, "draft-bullets").fill(BULLETS)
    page.evaluate(ARM, heading)
    page.click("#draft-generate")
    page.wait_for_function("() => window.__bench.done !== null || window.__bench.error !== null")
    t = page.evaluate("() => window.__bench")
    if t["error"] or t["click"] is None:
        raise SystemExit(f"draft '{heading}' failed in the page: {t}")
    return t["first"] - t["click"], t["done"] - t["click"]


def bench_drafts(work: Path, store: Path, browser: Browser, drafts: int) -> list[list[Any]]:
    """Drafts in one app process; returns the RSS rows for table 3."""
    from tests.openai_stub import OpenAIStub, Reply

    stub = OpenAIStub().start()
    env = {"DRAFTING_ENGINE": "offline", "DRAFTING_LLM_BASE_URL": stub.base_url, "DRAFTING_LLM_MODEL": "stub",
           "DRAFTING_LLM_RETRIES": "0"}
    app = AppProcess(store, work / "draft-data", work / "drafts.log", env)
    context, page = browser.page()
    rss_rows: list[list[Any]] = []
    rows: list[list[Any]] = []
    try:
        app.wait_http()
        page.goto(app.url)
        wait_text(page, "engine-info", "offline")
        rss_rows.append(["app, page served (start)", f"{rss_mb(app.proc.pid)[0]:.0f}", ""])
        rss_rows.append(["app, idle after start (warm-up done)", f"{settle_rss(app.proc.pid):.0f}", ""])
        results: dict[str, tuple[list[float], list[float]]] = {}
        for engine in ("offline", "openai"):
            if engine == "openai":
                box(page, "draft-engine").click()
                page.locator("[role=option]", has_text="openai").first.click()
                wait_text(page, "engine-info", "模型服务可以连接")
            first, done = [], []
            for n in range(drafts):
                if engine == "openai":
                    stub.enqueue(Reply(text=STUB_TEXT, chunk_chars=STUB_CHUNK_CHARS, delay=STUB_DELAY))
                heading = TOPICS[n % len(TOPICS)] + ("（二）" if engine == "openai" else "") + f"第{n + 1}稿"
                f, d = one_draft(page, heading)
                first.append(f)
                done.append(d)
                print(f"  {engine} draft {n + 1}: first text {f:.0f} ms, saved {d:.0f} ms", flush=True)
            results[engine] = (first, done)
            rss, hwm = rss_mb(app.proc.pid)
            rss_rows.append([f"app, after {drafts} {engine} drafts", f"{rss:.0f}", f"{hwm:.0f}"])
        if stub.replies:
            raise SystemExit("the openai drafts did not all reach the stub: the timings above are not of "
                             "openai")
        for engine, (first, done) in results.items():
            label = engine if engine == "offline" else (
                f"openai (stub, {STUB_CHUNK_CHARS} chars/delta, {STUB_DELAY * 1000:.0f} ms apart)")
            rows.append(stats_row(f"{label}: click → first text", first))
            rows.append(stats_row(f"{label}: click → draft saved", done))
    finally:
        context.close()
        app.stop()
        stub.stop()
    print(f"\n2. Click 生成初稿 → first draft text in the chat, {drafts} drafts per engine, one app process "
          "(ms)")
    print(table(rows, ["engine / span", "n", "p50", "p95", "max", "1st draft"]), flush=True)
    if drafts < 20:
        print(f"   With {drafts} samples p95 is the slowest draft (nearest rank).")
    return rss_rows


# ---- 3. ingest through the corpus tab's handler, in-process ---------------------------------
def upload_handler(demo: Any) -> Callable[..., Any]:
    """The function the 导入语料库 button is wired to (its .success step), found in the app's own events."""
    from drafting.ui.corpus_tab import CorpusTab

    for block_fn in demo.fns.values():
        fn = block_fn.fn
        if getattr(fn, "__name__", "") == "upload" and isinstance(getattr(fn, "__self__", None), CorpusTab):
            return fn  # type: ignore[no-any-return]
    raise SystemExit("the 语料库 tab's upload handler is not wired in build_app any more: update bench/ui.py")


def launched_app(store: Path, data: Path) -> tuple[Any, Any, Callable[..., Any]]:
    """(demo, context, upload handler): the app launched as app.py does (offline, on a free port) and
    warmed up, with the function the 导入语料库 button is wired to.  Used by bench/memory.py too."""
    from drafting.settings import get_settings, offline_environment

    offline_environment()
    from drafting.ui.app import build_app, launch_kwargs
    from drafting.ui.common import AppContext

    settings = get_settings(store=store, data_dir=data, port=free_port())
    ctx = AppContext.create(settings)
    demo = build_app(settings, ctx)
    demo.launch(**launch_kwargs(settings, ctx), prevent_thread_lock=True, quiet=True)
    ctx.warm_up()
    return demo, ctx, upload_handler(demo)


def ingest_child(store: Path, data: Path, corpus: Path) -> None:
    """Run in a fresh process: launch the app as app.py does, then call the upload handler with the corpus."""
    import gc

    demo, ctx, upload = launched_app(store, data)
    files = [str(p) for p in sorted(corpus.iterdir())]
    out: dict[str, Any] = {"files": len(files), "idle": rss_mb()[0]}
    t = time.perf_counter()
    result = upload(files, None, progress=lambda *_a, **_k: None)
    out["seconds"] = time.perf_counter() - t
    out["line"] = str(result[1])
    out["after"], out["peak"] = rss_mb()
    gc.collect()
    out["after_gc"] = rss_mb()[0]
    out["worker_peak"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    store_obj = ctx.store()
    out["docs"], out["chunks"] = len(store_obj.documents()), store_obj.count()
    demo.close()
    print("RESULT " + json.dumps(out, ensure_ascii=False), flush=True)


def bench_ingest(work: Path, store: Path, factor: int) -> list[list[Any]]:
    corpus = work / f"synthetic{factor}"
    t = time.perf_counter()
    make_synthetic(corpus, factor)
    print(f"synthetic corpus {factor}x: {len(list(corpus.iterdir()))} files in "
          f"{time.perf_counter() - t:.0f} s "
          "(not timed)", flush=True)
    own = work / "ingest-store"
    shutil.copytree(store, own)
    cmd = [sys.executable, str(Path(__file__).resolve()), "_ingest", "--store", str(own), "--data",
           str(work / "ingest-data"), "--corpus", str(corpus)]
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost"}
    proc = subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True, env=env)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode or line is None:
        raise SystemExit(f"in-process ingest failed ({proc.returncode}):"
                         f"\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    r = json.loads(line[len("RESULT "):])
    print(f"  upload handler: {r['files']} files in {r['seconds']:.0f} s → {r['docs']} documents, "
          f"{r['chunks']} chunks; {r['line']}", flush=True)
    return [
        [f"app in-process, idle before upload ({factor}x run)", f"{r['idle']:.0f}", ""],
        [f"app in-process, after uploading {r['files']} files ({factor}x, {r['seconds']:.0f} s)",
         f"{r['after']:.0f}", f"{r['peak']:.0f}"],
        ["  same, after gc.collect()", f"{r['after_gc']:.0f}", ""],
        ["  its tokeniser worker process (peak)", "", f"{r['worker_peak']:.0f}"],
    ]


# ---- main -------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="?", default="all", choices=["all", "start", "drafts", "ingest", "_ingest"])
    ap.add_argument("--factor", type=int, default=10,
                    help="synthetic corpus size for the ingest RSS (default 10)")
    ap.add_argument("--runs", type=int, default=5, help="cold starts (default 5)")
    ap.add_argument("--drafts", type=int, default=10, help="drafts per engine (default 10)")
    ap.add_argument("--store", type=Path)
    ap.add_argument("--data", type=Path)
    ap.add_argument("--corpus", type=Path)
    a = ap.parse_args()
    if a.what == "_ingest":
        ingest_child(a.store, a.data, a.corpus)
        return
    print(MACHINE, flush=True)
    work = Path(tempfile.mkdtemp(prefix="drafting-ui-bench-"))
    try:
        store = seeded_store(work)
        rss_rows: list[list[Any]] = []
        if a.what in ("all", "start", "drafts"):
            with Browser() as browser:
                if a.what in ("all", "start"):
                    bench_start(work, store, browser, a.runs)
                if a.what in ("all", "drafts"):
                    rss_rows += bench_drafts(work, store, browser, a.drafts)
        if a.what in ("all", "ingest"):
            rss_rows += bench_ingest(work, store, a.factor)
        if rss_rows:
            print("\n3. Resident memory (VmRSS from /proc; peak = VmHWM), MiB")
            print(table(rss_rows, ["process, moment", "RSS", "peak"]))
        print("\n" + MACHINE)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
