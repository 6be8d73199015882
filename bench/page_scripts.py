"""What the app's page scripts cost the browser (issue #12): drafting/data/gradio_zh.js (a
MutationObserver rewriting Gradio's few English words) and table_click.js, both in every page's <head>.

    python bench/page_scripts.py --drafts 6

The same app is served twice in this process (``build_app`` + ``launch_kwargs``, as the browser tests
do): once as shipped, once with ``head`` emptied (no page scripts).  In each, Debian's Chromium
(en-US, through Playwright) streams drafts from tests/openai_stub.py with many small deltas (every
delta is a DOM mutation the observer sees) and then switches through every tab.  Measured per
draft: Chrome's own ScriptDuration (CDP Performance.getMetrics: seconds the renderer spent running
JavaScript, Gradio's included) over the whole draft, and click → draft saved.  Prints a table;
results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
TEXT = "一、城市更新\n" + (
    "坚持问题导向，扎实推进老旧小区改造，全年完成120个，惠及居民3.2万户，群众获得感持续增强。" * 6)


def serve(settings: Any, head: bool) -> Any:
    from drafting.ui.app import build_app, launch_kwargs
    from drafting.ui.common import AppContext
    from tests.conftest import free_port

    settings = settings.model_copy(update={"port": free_port()})
    ctx = AppContext.create(settings)
    demo = build_app(settings, ctx)
    kwargs = launch_kwargs(settings, ctx)
    if not head:
        kwargs["head"] = ""
    demo.launch(**kwargs, prevent_thread_lock=True, quiet=True)
    return demo, f"http://127.0.0.1:{settings.port}/"


def script_seconds(cdp: Any) -> float:
    return next(m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]
                if m["name"] == "ScriptDuration")


def run(browser: Any, url: str, stub: Any, drafts: int) -> tuple[list[float], list[float]]:
    from tests.openai_stub import Reply

    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.goto(url)
    page.wait_for_selector("#draft-generate")
    page.locator("#draft-engine input").click()
    page.locator("[role=option]", has_text="openai").first.click()
    page.wait_for_function("() => document.getElementById('engine-info')"
                           ".innerText.includes('模型服务可以连接')")
    page.locator("#draft-bullets textarea").fill("老旧小区改造完成120个，惠及居民3.2万户")
    js, saved = [], []
    for n in range(drafts):
        stub.enqueue(Reply(text=TEXT, chunk_chars=2, delay=0.01))
        page.locator("#draft-heading input, #draft-heading textarea").first.fill(f"城市更新第{n + 1}稿")
        before, t = script_seconds(cdp), time.perf_counter()
        page.click("#draft-generate")
        page.wait_for_function("n => document.getElementById('draft-status')"
                               ".innerText.includes('已自动保存为版本 ' + n)", arg=str(n + 1))
        saved.append((time.perf_counter() - t) * 1000)
        js.append((script_seconds(cdp) - before) * 1000)
    context.close()
    return js, saved


def main() -> None:
    from playwright.sync_api import sync_playwright

    from drafting.ingest import ingest
    from drafting.settings import get_settings
    from tests.conftest import SEEDS
    from tests.openai_stub import OpenAIStub

    parser = argparse.ArgumentParser()
    parser.add_argument("--drafts", type=int, default=6)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="page-scripts-"))
    stub = OpenAIStub().start()
    try:
        shutil.copytree(SEEDS, work / "corpus")
        ingest([work / "corpus"], get_settings(store=work / "store"))
        rows = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
            for head in (False, True, False, True):  # interleaved, so load on the shared machine hits both
                settings = get_settings(store=work / "store", data_dir=work / f"data-{head}-{len(rows)}",
                                        engine="offline", llm_base_url=stub.base_url, llm_model="stub",
                                        llm_retries=0)
                demo, url = serve(settings, head)
                try:
                    js, saved = run(browser, url, stub, args.drafts)
                finally:
                    demo.close()
                rows.append(("with page scripts" if head else "without (head emptied)", js, saved))
                print(f"  {rows[-1][0]}: JS {[round(x) for x in js]} ms, "
                      f"saved {[round(x) for x in saved]} ms", flush=True)
            browser.close()
    finally:
        stub.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nStreamed drafts ({len(TEXT)} characters in {len(TEXT) // 2} deltas of 2, 10 ms apart), "
          f"{args.drafts} per run, two runs each, interleaved; ms")
    print("| page | drafts | JS per draft, median | JS, max | click → saved, median | saved, max |")
    print("|------|--------|----------------------|---------|-----------------------|------------|")
    for label in ("without (head emptied)", "with page scripts"):
        js = [x for r in rows if r[0] == label for x in r[1]]
        saved = [x for r in rows if r[0] == label for x in r[2]]
        print(f"| {label} | {len(js)} | {statistics.median(js):.0f} | {max(js):.0f} | "
              f"{statistics.median(saved):.0f} | {max(saved):.0f} |")


if __name__ == "__main__":
    main()
