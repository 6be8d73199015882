"""Load benchmark for issue #5: N simulated writers against the real web app through ``gradio_client``.

    python bench/load.py                                  # 20 writers, 60 s, offline engine
    python bench/load.py --engine openai                  # against the scripted OpenAI-compatible stub
    python bench/load.py --compare 1,4,8 --seconds 45     # the same load at three queue settings
    python bench/load.py --scenario paste --writers 10    # one writer pastes the largest text,
the others edit

The app runs as a subprocess (``python bench/load.py _serve``) on a free 127.0.0.1 port, with a temp
store (corpus/ ingested first), a temp data dir and a users file of N writers, so every save lands in
that writer's own history.  Each writer is a thread with its own ``gradio_client.Client`` (its own
login and session) looping 起草 → 对话修改 → 润色 → 历史/导出 Word until the time is up.  Afterwards
the history database is read directly: every version the UI reported as saved must be there, and
each writer must have exactly as many rows as successful drafts + refinements.  Results are recorded
in docs/reliability.md ("Load").  The machine is shared: read every figure as an upper bound.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / "corpus"
OPS = ("draft", "refine", "polish", "export")
HTTP_TIMEOUT = 120.0  # seconds without a byte before a writer's request fails (a browser is as patient)
SAVED_RE = re.compile(r"已自动保存为版本\s*(\d+)")
PASTE_UNIT = "（二）扎实推进城市更新。老旧小区改造完成120个，惠及居民3.2万户，新增公共停车泊位1.2万个。\n"
FIGURE_HEADERS = ["指标", "本期数值", "单位", "上期数值"]
CASES = [
    ("（三）城市更新", ["老旧小区改造完成120个，惠及居民3.2万户", "新增公共停车泊位1.2万个",
                        "完成城市道路提升改造18条"]),
    ("（一）建筑市场监管", ["开展建筑工地扬尘专项整治", "检查在建项目236个，下发整改通知书41份",
                            "查处违法违规行为12起"]),
    ("（二）住房保障", ["筹集保障性租赁住房3500套", "发放住房租赁补贴1.6万户", "棚户区改造开工2100套"]),
    ("（四）精神文明建设", ["开展志愿服务活动46场，参与干部职工800人次", "评选文明处室5个",
                            "推进移风易俗宣传"]),
]
INSTRUCTIONS = ["压缩到300字", "改成一是二是三是"]
STUB_TEXT = (
    "今年以来，我局坚持以人民为中心，扎实推进城市更新和住房保障工作。老旧小区改造完成120个，惠及居民3.2万户；"
    "新增公共停车泊位1.2万个，群众出行条件明显改善。下一步，我们将持续加大工作力度，巩固提升改造成效，"
    "推动各项任务落地见效。"
)


# ---- the app under test ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_users(path: Path, n: int) -> list[tuple[str, str]]:
    """A users file with ``n`` writers (bcrypt hashes, as ``drafting users add`` writes them)."""
    from drafting.users import add_user

    creds = [(f"writer{i:02d}", f"load-pass-{i:02d}") for i in range(n)]
    for name, password in creds:
        add_user(path, name, password)
    return creds


@dataclass
class App:
    """The app subprocess and where it keeps its data."""

    proc: subprocess.Popen[bytes]
    url: str
    root: Path
    log: Path

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def cpu_seconds(self) -> float:
        """User + system CPU of the app process so far (from /proc; 0 where unavailable)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def start_app(root: Path, n_users: int, *, concurrency: int | None = None, llm_base_url: str | None = None,
              timeout: float = 180.0) -> tuple[App, list[tuple[str, str]]]:
    """Start the app on a free port with a users file of ``n_users`` writers; wait until it answers."""
    root.mkdir(parents=True, exist_ok=True)
    users_file = root / "users.json"
    creds = make_users(users_file, n_users)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRAFTING_")}
    env.update(DRAFTING_STORE=str(root / "store"), DRAFTING_DATA_DIR=str(root / "data"),
               DRAFTING_USERS_FILE=str(users_file), DRAFTING_PORT=str(port), DRAFTING_HOST="127.0.0.1",
               GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    if llm_base_url:
        env.update(DRAFTING_LLM_BASE_URL=llm_base_url, DRAFTING_LLM_MODEL="stub-model",
                   DRAFTING_LLM_API_KEY="sk-load")
    cmd = [sys.executable, str(Path(__file__).resolve()), "_serve"]
    if concurrency is not None:
        cmd += ["--concurrency", str(concurrency)]
    log = root / "app.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    app = App(proc, f"http://127.0.0.1:{port}/", root, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited with {proc.returncode}:"
                               f"\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(app.url, timeout=5) as r:  # loopback only
                if r.status == 200:
                    return app, creds
        except OSError:
            pass
        time.sleep(0.5)
    app.stop()
    raise RuntimeError(f"app did not answer within {timeout:.0f} s:"
                       f"\n{log.read_text(errors='replace')[-3000:]}")


def serve(concurrency: int | None) -> int:
    """The subprocess: ingest corpus/ into the (empty) store, then serve the app until terminated."""
    from drafting.ingest import ingest
    from drafting.settings import get_settings, offline_environment

    offline_environment()
    settings = get_settings()
    report = ingest([CORPUS], settings)
    print(f"ingested {report.added} documents, {report.chunks} chunks", flush=True)
    import drafting.ui.app as app_module

    if concurrency is not None:
        app_module.CONCURRENCY = concurrency
    print(f"queue default_concurrency_limit={app_module.CONCURRENCY}", flush=True)
    app_module.launch(settings)
    return 0


# ---- one writer -------------------------------------------------------------------------------------
@dataclass
class Op:
    writer: str
    kind: str
    start: float
    seconds: float
    ok: bool
    error: str = ""
    version: int | None = None


@dataclass
class Writer:
    """One simulated writer: a logged-in ``Client`` and the operations it recorded."""

    user: str
    password: str
    engine: str
    ops: list[Op] = field(default_factory=list)
    client: Any = None
    saved_texts: dict[int, str] = field(default_factory=dict)  # version → the text the editor sent

    def connect(self, url: str, download_dir: Path) -> bool:
        """Log in and open a session (recorded as a ``login`` op).  gradio_client's own HTTP timeout is
        httpx's 5 s, which 20 logins at once (bcrypt, then /config and /info) overrun on 2 busy cores;
        a browser waits longer, so the writers do too."""
        import httpx
        from gradio_client import Client

        def run() -> tuple[Any, None]:
            self.client = Client(url, auth=(self.user, self.password), verbose=False,
                                 download_files=str(download_dir / self.user),
                                 httpx_kwargs={"timeout": httpx.Timeout(HTTP_TIMEOUT, connect=30.0)})
            return self.client, None

        return self._timed("login", run) is not None

    def _timed(self, kind: str, fn: Any) -> Any:
        t = time.perf_counter()
        try:
            value, version = fn()
        except Exception as exc:  # noqa: BLE001 - every failure is a recorded error, the run goes on
            self.ops.append(Op(self.user, kind, t, time.perf_counter() - t, False,
                               f"{type(exc).__name__}: {exc}"[:300]))
            return None
        self.ops.append(Op(self.user, kind, t, time.perf_counter() - t, True, version=version))
        return value

    def draft(self, n: int) -> Any:
        heading, bullets = CASES[n % len(CASES)]
        table = {"headers": FIGURE_HEADERS, "data": [["", "", "", ""]], "metadata": None}

        def run() -> tuple[Any, int]:
            out = self.client.predict(heading, "\n".join(bullets), table, "工作总结", 400, self.engine,
                                      api_name="/draft")
            return out, _saved_version(out[5], out[1])

        return self._timed("draft", run)

    def refine(self, n: int, drafted: Any) -> Any:
        instruction = INSTRUCTIONS[n % len(INSTRUCTIONS)]

        def run() -> tuple[Any, int]:
            out = self.client.predict(instruction, drafted[1], drafted[0], self.engine, api_name="/refine")
            return out, _saved_version(out[5], out[1])

        return self._timed("refine", run)

    def polish(self, text: str) -> Any:
        def run() -> tuple[Any, None]:
            out = self.client.predict(text, self.engine, api_name="/polish")
            notes = str(out[-1])
            if "条建议" not in notes:
                raise AssertionError(f"polish answered without suggestions: {notes[:120]}")
            return out, None

        return self._timed("polish", run)

    def export(self, n: int, text: str) -> Any:
        def run() -> tuple[Any, None]:
            # the 历史 tab lists the sections (here: the current draft)
            self.client.predict(api_name="/history")
            path, status = self.client.predict(["current"], f"负载测试{self.user}第{n}稿",
                                               "市住房和城乡建设局",
                                               "2024年7月10日", text, api_name="/export_docx")
            if (not path or not Path(path).is_file() or Path(path).stat().st_size == 0
                    or "已导出" not in str(status)):
                raise AssertionError(f"export gave no file: {path!r} {status!r}")
            return path, None

        return self._timed("export", run)

    def save(self, text: str, kind: str = "save") -> Any:
        """The editor's save step (重新检查 or leaving the editor): ``/save_edit``."""
        def run() -> tuple[Any, int]:
            status = self.client.predict(text, api_name="/save_edit")
            m = re.search(r"版本\s*(\d+)", str(status))
            if not m:
                raise AssertionError(f"not reported as saved: {str(status)[:160]}")
            self.saved_texts[int(m.group(1))] = text
            return status, int(m.group(1))

        return self._timed(kind, run)

    def check(self, text: str, kind: str = "check") -> Any:
        """The step after it: check and render both panels (``/check_edit``)."""
        def run() -> tuple[Any, None]:
            out = self.client.predict(text, api_name="/check_edit")
            if 'id="para-1"' not in str(out[0]):
                raise AssertionError(f"no annotated draft: {str(out[0])[:120]}")
            return out, None

        return self._timed(kind, run)

    def paste_loop(self, deadline: float, limit: int) -> None:
        """The writer with the largest text the editor takes: paste, 重新检查, change a line, again."""
        body = (PASTE_UNIT * (limit // len(PASTE_UNIT) + 1))[: limit - 12]
        n = 0
        while time.monotonic() < deadline:
            text = f"第{n:04d}稿\n{body}"[:limit]
            if self.save(text, "paste save") is not None:
                self.check(text, "paste check")
            n += 1

    def edit_loop(self, deadline: float) -> None:
        """An ordinary writer: a short section edited and saved (leaving the editor), now and then checked."""
        heading, bullets = CASES[len(self.user) % len(CASES)]
        n = 0
        while time.monotonic() < deadline:
            text = (f"{heading}\n" + "；".join(bullets)
                + f"。\n第{n}次修改：进一步压实责任，推动各项任务落地见效。")
            if self.save(text) is not None and n % 3 == 2:
                self.check(text)
            n += 1

    def session(self, n: int, ops: Sequence[str]) -> None:
        drafted = self.draft(n)
        if drafted is None:
            return
        text = drafted[1]
        if "refine" in ops:
            refined = self.refine(n, drafted)
            if refined is None:
                return
            text = refined[1]
        if "polish" in ops:
            self.polish(text)
        if "export" in ops:
            self.export(n, text)

    def run(self, *, deadline: float | None = None, iterations: int | None = None,
            ops: Sequence[str] = OPS) -> None:
        n = 0
        while (iterations is None or n < iterations) and (deadline is None or time.monotonic() < deadline):
            self.session(n, ops)
            n += 1


def _own_cpu() -> float:
    t = os.times()
    return t.user + t.system


def _saved_version(status: Any, text: Any) -> int:
    m = SAVED_RE.search(str(status))
    if not m or not str(text or "").strip():
        raise AssertionError(f"not reported as saved: {str(status)[:160]}")
    return int(m.group(1))


# ---- a run -----------------------------------------------------------------------------------------
@dataclass
class Result:
    engine: str
    concurrency: int | None
    writers: int
    wall: float
    ops: list[Op]
    saved: dict[str, int]  # rows in history per writer
    missing: list[tuple[str, int]]  # versions reported as saved but not in history
    app_cpu: float
    exports_on_disk: int
    bench_cpu: float = 0.0
    load_start: float = 0.0

    def expected(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for op in self.ops:
            if op.ok and op.version is not None:
                out[op.writer] = out.get(op.writer, 0) + 1
        return out

    def errors(self) -> list[Op]:
        return [op for op in self.ops if not op.ok]

    def all_saved(self) -> bool:
        exp = self.expected()
        return not self.missing and all(self.saved.get(w, 0) == exp.get(w, 0)
                                        for w in set(exp) | set(self.saved))

    def to_json(self) -> dict[str, Any]:
        exp = self.expected()
        return {
            "engine": self.engine, "concurrency": self.concurrency, "writers": self.writers,
            "wall_s": round(self.wall, 2), "app_cpu_s": round(self.app_cpu, 1),
            "bench_cpu_s": round(self.bench_cpu, 1),
            "load_avg_start": self.load_start,
            "ops": {k: summary([o for o in self.ops if o.kind == k], self.wall) for k in ("login", *OPS)},
            "total": summary([o for o in self.ops if o.kind != "login"], self.wall),
            "errors": [o.error for o in self.errors()][:20],
            "saved": sum(self.saved.values()), "expected": sum(exp.values()), "missing": self.missing[:20],
            "all_saved": self.all_saved(), "exports_on_disk": self.exports_on_disk,
        }


def pct(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]  # nearest rank


def summary(ops: Sequence[Op], wall: float | None = None) -> dict[str, Any]:
    lat = [o.seconds for o in ops if o.ok]
    out = {"n": len(ops), "ok": len(lat), "errors": len(ops) - len(lat),
           "p50": pct(lat, 50), "p95": pct(lat, 95), "p99": pct(lat, 99),
           "max": max(lat, default=float("nan")),
           "mean": statistics.fmean(lat) if lat else float("nan")}
    if wall:
        out["per_s"] = len(lat) / wall
    return out


def count_saved(data_dir: Path, users: Sequence[str],
                ops: Sequence[Op]) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """Rows per writer in the history DB, and reported versions that are not there (for that writer)."""
    from drafting.history import History
    from drafting.settings import get_settings

    history = History.for_settings(get_settings(data_dir=data_dir))
    saved = {u: history.count(u) for u in users}
    missing = [(o.writer, o.version) for o in ops
               if o.ok and o.version is not None and history.get(o.writer, o.version) is None]
    return saved, missing


def run_load(*, engine: str, writers: int, seconds: float | None = None, iterations: int | None = None,
             concurrency: int | None = None, ops: Sequence[str] = OPS, root: Path | None = None,
             stub_reply: Any = None) -> Result:
    """Start the app, run ``writers`` writers for ``seconds`` (or ``iterations`` sessions each),
    count saves."""
    own_root = root is None
    root = Path(tempfile.mkdtemp(prefix="drafting-load-")) if root is None else root
    stub = None
    if engine == "openai":
        sys.path.insert(0, str(ROOT))
        from tests.openai_stub import OpenAIStub, Reply

        stub = OpenAIStub()
        stub.default = stub_reply or Reply(text=STUB_TEXT, chunk_chars=8, delay=0.02)
        stub.start()
    try:
        app, creds = start_app(root, writers, concurrency=concurrency,
                               llm_base_url=stub.base_url if stub else None)
        try:
            pool = [Writer(u, p, engine) for u, p in creds]
            threads = [threading.Thread(target=w.connect, args=(app.url, root / "downloads")) for w in pool]
            for t in threads:  # everyone logs in at once (9 o'clock)
                t.start()
            for t in threads:
                t.join()
            logins = [op for w in pool for op in w.ops]
            pool = [w for w in pool if w.client is not None]
            cpu0, own0, load0 = app.cpu_seconds(), _own_cpu(), os.getloadavg()[0]
            t0 = time.monotonic()
            deadline = t0 + seconds if seconds else None
            threads = [threading.Thread(target=w.run, kwargs={"deadline": deadline, "iterations": iterations,
                                                              "ops": ops},
                                        name=w.user) for w in pool]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - t0
            app_cpu, own_cpu = app.cpu_seconds() - cpu0, _own_cpu() - own0
            for w in pool:
                w.client.close()
        finally:
            app.stop()
        all_ops = logins + [op for w in pool for op in w.ops if op.kind != "login"]
        saved, missing = count_saved(app.data_dir, [u for u, _ in creds], all_ops)
        exports = (sum(1 for _ in (app.data_dir / "exports").rglob("*.docx"))
            if (app.data_dir / "exports").is_dir() else 0)
        return Result(engine, concurrency, writers, wall, all_ops, saved, missing, app_cpu, exports, own_cpu,
                      load0)
    finally:
        if stub is not None:
            stub.stop()
        if own_root:
            shutil.rmtree(root, ignore_errors=True)


def run_paste(*, writers: int, seconds: float, limit: int, root: Path | None = None) -> dict[str, Any]:
    """One writer pastes the largest text the editor takes and re-checks it in a loop; the others
    save short edits (and check every third).  Every save the app reported must be in that writer's
    history with exactly the text sent: anything else is a lost save."""
    from drafting.history import History
    from drafting.settings import get_settings

    own_root = root is None
    root = Path(tempfile.mkdtemp(prefix="drafting-paste-")) if root is None else root
    try:
        app, creds = start_app(root, writers)
        try:
            pool = [Writer(u, p, "offline") for u, p in creds]
            threads = [threading.Thread(target=w.connect, args=(app.url, root / "downloads")) for w in pool]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            pool = [w for w in pool if w.client is not None]
            paster, others = pool[0], pool[1:]
            cpu0, t0 = app.cpu_seconds(), time.monotonic()
            deadline = t0 + seconds
            threads = [threading.Thread(target=paster.paste_loop, args=(deadline, limit))]
            threads += [threading.Thread(target=w.edit_loop, args=(deadline,)) for w in others]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall, app_cpu = time.monotonic() - t0, app.cpu_seconds() - cpu0
            for w in pool:
                w.client.close()
        finally:
            app.stop()
        history = History.for_settings(get_settings(data_dir=app.data_dir))
        lost = [(w.user, vid) for w in pool for vid, text in w.saved_texts.items()
                if (v := history.get(w.user, vid)) is None or v.text != text]
        ops = [o for w in pool for o in w.ops if o.kind != "login"]
        out: dict[str, Any] = {"writers": len(pool), "wall_s": round(wall, 1),
                               "app_cores": round(app_cpu / wall, 2),
                               "limit_chars": limit,
                               "lost_saves": len(lost) + sum(not o.ok for o in ops if "save" in o.kind),
                               "reported_missing_or_changed": lost[:10],
                               "errors": [o.error for o in ops if not o.ok][:10]}
        for kind in ("save", "check", "paste save", "paste check"):
            out[kind] = summary([o for o in ops if o.kind == kind], wall)
        return out
    finally:
        if own_root:
            shutil.rmtree(root, ignore_errors=True)


def paste_table(r: dict[str, Any]) -> str:
    lines = [(f"{r['writers']} writers ({r['writers'] - 1} editing, 1 pasting {r['limit_chars']} characters)"
              ", "
              f"{r['wall_s']} s, app {r['app_cores']} cores; lost saves: {r['lost_saves']}"),
             "| who | step | ok / n | p50 s | p95 s | p99 s | max s |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for kind in ("save", "check", "paste save", "paste check"):
        s = r[kind]
        who = "the paster" if kind.startswith("paste") else "the others"
        step = kind.replace("paste ", "")
        lines.append(f"| {who} | {step} | {s['ok']} / {s['n']} | {s['p50']:.2f} | {s['p95']:.2f} | "
                     f"{s['p99']:.2f} | "
                     f"{s.get('max', float('nan')):.2f} |")
    return "\n".join(lines)


def table(results: Sequence[Result]) -> str:
    lines = ["| engine | queue limit | op | ok / n | ops/s | p50 s | p95 s | p99 s | errors | saved / "
             "expected |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        exp = sum(r.expected().values())
        saved = (f"{sum(r.saved.values())} / {exp}"
            + ("" if r.all_saved() else f" ✗ ({len(r.missing)} missing)"))
        limit = "default" if r.concurrency is None else str(r.concurrency)
        for kind in ("login", *OPS, "all"):
            ops = ([o for o in r.ops if o.kind != "login"] if kind == "all"
                else [o for o in r.ops if o.kind == kind])
            s = summary(ops, r.wall)
            lines.append(f"| {r.engine} | {limit} | {kind} | {s['ok']} / {s['n']} | {s['per_s']:.2f} | "
                         f"{s['p50']:.2f} "
                         f"| {s['p95']:.2f} | {s['p99']:.2f} | {s['errors']} | "
                         f"{saved if kind == 'all' else ''} |")
    return "\n".join(lines)


def report(r: Result) -> str:
    sessions = sum(1 for o in r.ops if o.kind == "draft" and o.ok)
    head = (f"{r.engine}, queue limit {r.concurrency or 'default'}: {r.writers} writers, {r.wall:.1f} s "
            "wall, "
            f"{sessions} drafts, app CPU {r.app_cpu:.1f} s ({r.app_cpu / r.wall:.2f} cores), bench CPU "
            f"{r.bench_cpu:.1f} s ({r.bench_cpu / r.wall:.2f} cores), load avg at start {r.load_start:.1f}, "
            f"{r.exports_on_disk} .docx on disk, all saved: {r.all_saved()}")
    lines = [head]
    for op in r.errors()[:5]:
        lines.append(f"  error {op.writer} {op.kind}: {op.error}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", nargs="?", default="run", choices=["run", "_serve"])
    ap.add_argument("--engine", choices=["offline", "openai"], default="offline")
    ap.add_argument("--writers", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--concurrency", type=int, default=None,
                    help="queue default_concurrency_limit (default: the app's)")
    ap.add_argument("--compare", default="",
                    help="comma-separated limits to run one after another, e.g. 1,4,8")
    ap.add_argument("--json", default="", help="write the results here as JSON")
    ap.add_argument("--scenario", choices=["mixed", "paste"], default="mixed",
                    help="mixed: draft/refine/polish/export loops; paste: one writer at the editor limit, "
                        "the others editing")
    args = ap.parse_args(argv)
    if args.mode == "_serve":
        return serve(args.concurrency)
    if args.scenario == "paste":
        from drafting.settings import get_settings

        limit = get_settings().max_editor_chars
        print(f"running paste: {args.writers} writers, {args.seconds:.0f} s, editor limit {limit}…",
              flush=True)
        r = run_paste(writers=args.writers, seconds=args.seconds, limit=limit)
        print(paste_table(r))
        for e in r["errors"][:5]:
            print("  error:", e)
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(r, ensure_ascii=False, indent=1, default=str), "utf-8")
        return 0 if r["lost_saves"] == 0 else 1
    limits: list[int | None] = [int(x) for x in args.compare.split(",") if x.strip()] or [args.concurrency]
    results = []
    for limit in limits:
        print(f"running {args.engine}, queue limit {limit or 'default'}, {args.writers} writers, "
              f"{args.seconds:.0f} s…",
              flush=True)
        r = run_load(engine=args.engine, writers=args.writers, seconds=args.seconds, concurrency=limit)
        print(report(r), flush=True)
        results.append(r)
    print()
    print(table(results))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps([r.to_json() for r in results], ensure_ascii=False, indent=1),
                                   "utf-8")
    ok = all(not r.errors() and r.all_saved() for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
