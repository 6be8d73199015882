"""Security (issue #5): binding and accounts, bcrypt, login rate limit (unit and over HTTP),
history separation through Gradio's HTTP API, upload names/types/sizes, and API keys that never
reach logs, output, the history file, exports or the vector store."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from drafting.ingest import ingest
from drafting.settings import Settings, get_settings
from drafting.ui.common import AppContext
from drafting.ui.corpus_tab import MAX_NAME_BYTES, CorpusTab, safe_upload_name
from drafting.ui.history_tab import CURRENT, HistoryTab
from drafting.users import BCRYPT_ROUNDS, LoginLimiter, add_user, load_users, locked_message, verify
from tests.conftest import ROOT, SEEDS, free_port
from tests.openai_stub import OpenAIStub, Reply

BULLETS = "老旧小区改造完成120个，惠及居民3.2万户\n新增公共停车泊位1.2万个"
EMPTY_TABLE = [["", "", "", ""]]
PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-22", "carol": "carol-password-333"}
HAN = re.compile(r"[\u4e00-\u9fff]")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ---- binding and accounts ------------------------------------------------------------------
def test_serve_beyond_loopback_without_accounts_exits_2_in_chinese(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRAFTING_")}
    env.update(DRAFTING_DATA_DIR=str(tmp_path / "data"), DRAFTING_STORE=str(tmp_path / "store"))
    port = free_port()
    proc = subprocess.run(
        [sys.executable, "-m", "drafting.cli", "serve", "--host", "0.0.0.0", "--port", str(port)],
        check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "用户文件" in proc.stderr and "127.0.0.1" in proc.stderr and HAN.search(proc.stderr)
    with socket.socket() as s:  # nothing was left listening
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_default_host_is_loopback() -> None:
    assert Settings.model_fields["host"].default == "127.0.0.1"


def test_passwords_are_bcrypt_cost_12_and_never_stored_in_plain(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    add_user(path, "alice", PASSWORDS["alice"], admin=True)
    add_user(path, "bob", PASSWORDS["bob"])
    raw = path.read_bytes()
    for pw in PASSWORDS.values():
        assert pw.encode() not in raw
    for row in json.loads(raw)["users"]:
        assert set(row) == {"name", "password_hash", "admin"}
        m = re.fullmatch(r"\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}", row["password_hash"])
        assert m and int(m.group(1)) >= 12
    assert BCRYPT_ROUNDS >= 12
    assert path.stat().st_mode & 0o077 == 0  # readable by its owner only
    users = load_users(path)
    assert verify(users, "alice", PASSWORDS["alice"])
    assert not verify(users, "alice", PASSWORDS["bob"])
    assert not verify(users, "nobody", PASSWORDS["alice"])
    assert not verify(users, "alice", "")


# ---- login rate limit (fake clock) ---------------------------------------------------------
def fail(limiter: LoginLimiter, name: str, ip: str | None = "10.0.0.1", n: int = 1) -> None:
    for _ in range(n):
        assert limiter.acquire(name, ip) == 0
        limiter.failed(name, ip)


def test_limiter_locks_after_five_failures_and_doubles() -> None:
    clock = FakeClock()
    lim = LoginLimiter(clock=clock)
    fail(lim, "alice", n=4)
    assert lim.acquire("alice", "10.0.0.1") == 0  # the 5th attempt may still try…
    lim.failed("alice", "10.0.0.1")  # …and fails: locked for 60 s
    assert lim.acquire("alice", "10.0.0.1") == pytest.approx(60)
    assert lim.acquire("alice", "10.9.9.9") == pytest.approx(60)  # the name is locked from anywhere
    clock.now += 59
    assert lim.acquire("alice", None) == pytest.approx(1)
    clock.now += 1.5
    fail(lim, "alice", n=5)
    assert lim.acquire("alice", None) == pytest.approx(120)  # the second lock is twice as long
    clock.now += 121
    fail(lim, "alice", n=5)
    assert lim.acquire("alice", None) == pytest.approx(240)
    assert lim.acquire("bob", "10.0.0.2") == 0  # other names and addresses are not affected


def test_limiter_success_resets_the_name_and_quiet_time_forgets() -> None:
    clock = FakeClock()
    lim = LoginLimiter(clock=clock)
    fail(lim, "alice", n=4)
    assert lim.acquire("alice", "10.0.0.1") == 0
    lim.succeeded("alice", "10.0.0.1")
    fail(lim, "alice", n=4)  # a fresh count: four more failures do not lock
    assert lim.acquire("alice", "10.0.0.1") == 0
    lim.succeeded("alice", "10.0.0.1")
    fail(lim, "bob", n=4)
    clock.now += 901  # quiet for longer than reset_after: forgotten
    fail(lim, "bob", n=4)
    assert lim.acquire("bob", None) == 0


def test_limiter_per_address_across_names() -> None:
    clock = FakeClock()
    lim = LoginLimiter(clock=clock, ip_max_failures=20)
    for n in range(20):
        fail(lim, f"guess{n}", ip="203.0.113.7")
    assert lim.acquire("alice", "203.0.113.7") == pytest.approx(60)  # spraying names locks the address
    assert lim.acquire("alice", "198.51.100.1") == 0
    lim.succeeded("alice", "198.51.100.1")


def test_limiter_parallel_attempts_cannot_pass_the_limit() -> None:
    lim = LoginLimiter(clock=FakeClock())
    barrier = threading.Barrier(40)
    let_in: list[float] = []

    def attempt() -> None:
        barrier.wait()
        let_in.append(lim.acquire("alice", "10.0.0.1"))

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for w in let_in if w == 0) == 5  # only five guesses run before any of them answered


def test_colleagues_behind_one_address_logging_in_together_are_not_locked() -> None:
    clock = FakeClock()
    lim = LoginLimiter(clock=clock)
    waits = [lim.acquire(f"writer{n}", "192.0.2.10") for n in range(60)]  # 60 logins at 9 a.m., one NAT
    assert waits[:50] == [0.0] * 50
    assert all(0 < w <= 5 for w in waits[50:])  # "busy, try again in a few seconds", not a lock
    for n in range(50):
        lim.succeeded(f"writer{n}", "192.0.2.10")
    assert lim.acquire("writer55", "192.0.2.10") == 0.0


def test_limiter_memory_is_bounded() -> None:
    clock = FakeClock()
    lim = LoginLimiter(clock=clock, max_keys=100)
    for n in range(1000):
        fail(lim, f"spray{n}", ip=None)
        clock.now += 0.01
    assert len(lim._state) <= 100


def test_locked_message_is_chinese_and_says_when() -> None:
    assert "60秒" in locked_message(59.2) and "管理员" in locked_message(1)
    assert "4分钟" in locked_message(240)


def test_launch_kwargs_auth_is_rate_limited(tmp_path: Path) -> None:
    from fastapi import HTTPException

    from drafting.ui.app import launch_kwargs

    users = tmp_path / "users.json"
    add_user(users, "alice", PASSWORDS["alice"])
    settings = get_settings(store=tmp_path / "store", data_dir=tmp_path / "data", users_file=users)
    kwargs = launch_kwargs(settings, AppContext.create(settings))
    auth = kwargs["auth"]
    assert asyncio.run(auth("alice", PASSWORDS["alice"])) is True
    for _ in range(5):
        assert asyncio.run(auth("alice", "wrong-password")) is False
    with pytest.raises(HTTPException) as info:
        asyncio.run(auth("alice", PASSWORDS["alice"]))
    assert info.value.status_code == 400 and "登录失败次数过多" in str(info.value.detail)
    assert "连续输错5次" in kwargs["auth_message"]


# ---- the served app (accounts on, 127.0.0.1) -------------------------------------------------
@dataclass
class Served:
    url: str
    settings: Settings
    demo: Any
    clock: FakeClock
    limiter: LoginLimiter

    def api(self, fn: Any) -> str:
        """The API name of the event whose function is ``fn`` (a bound handler)."""
        names = [d.api_name for d in self.demo.fns.values() if d.fn == fn and d.api_name]
        assert names, f"no API endpoint for {fn}"
        return "/" + str(names[0])


UPLOAD_QUOTA_MB = 1.0  # the served app's per-user upload quota


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app as `drafting serve` starts it (``launch``), with the login limiter on a test clock."""
    from drafting.ui.app import launch, login_check

    root = tmp_path_factory.mktemp("security")
    shutil.copytree(SEEDS, root / "corpus")
    store = root / "store"
    ingest([root / "corpus"], get_settings(store=store))
    users = root / "users.json"
    for name, pw in PASSWORDS.items():
        add_user(users, name, pw, admin=name == "alice")
    settings = get_settings(store=store, data_dir=root / "data", users_file=users, engine="offline",
                            host="127.0.0.1", port=free_port(), upload_quota_mb=UPLOAD_QUOTA_MB)
    clock = FakeClock()
    limiter = LoginLimiter(clock=clock, ip_max_failures=20)
    # the real check, with a clock the test moves
    demo = launch(settings, auth=login_check(load_users(users), limiter), prevent_thread_lock=True,
                  quiet=True)
    yield Served(f"http://127.0.0.1:{settings.port}/", settings, demo, clock, limiter)
    demo.close()


def login(url: str, name: str, password: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(url + "login", data={"username": name, "password": password}, headers=headers,
                      timeout=60)


def test_http_login_is_locked_after_five_wrong_passwords(served: Served) -> None:
    assert login(served.url, "carol", PASSWORDS["carol"]).status_code == 200
    for _ in range(5):
        r = login(served.url, "carol", "wrong-password")
        assert r.status_code == 400 and "登录失败次数过多" not in r.text
    r = login(served.url, "carol", PASSWORDS["carol"])  # the right password, but locked
    assert r.status_code == 400
    assert "登录失败次数过多" in r.json()["detail"] and int(r.headers["retry-after"]) == 60
    assert "access-token" not in r.headers.get("set-cookie", "")
    assert login(served.url, "bob", PASSWORDS["bob"]).status_code == 200  # others still log in
    served.clock.now += 61
    assert login(served.url, "carol", PASSWORDS["carol"]).status_code == 200


def test_http_login_limit_sees_the_client_address(served: Served) -> None:
    for n in range(20):
        assert login(served.url, f"spray{n}", "wrong-password").status_code == 400
    assert ("ip", "127.0.0.1") in served.limiter._state
    r = login(served.url, "alice", PASSWORDS["alice"])  # the address is locked for every name
    assert r.status_code == 400 and "登录失败次数过多" in r.json()["detail"]
    served.clock.now += 61
    assert login(served.url, "alice", PASSWORDS["alice"]).status_code == 200


# ---- issue #11: oversize passwords, X-Forwarded-For -------------------------------------------
LONG_PASSWORD = "密" * 25  # 75 UTF-8 bytes: more than bcrypt's 72


def test_oversize_password_is_refused_alike_for_known_and_unknown_names(tmp_path: Path) -> None:
    """bcrypt 5 raises ValueError past 72 bytes: verify() caught it for a known name only."""
    from drafting.errors import InputError
    from drafting.users import MAX_PASSWORD_BYTES, hash_password

    add_user(tmp_path / "users.json", "alice", PASSWORDS["alice"])
    users = load_users(tmp_path / "users.json")
    assert len(LONG_PASSWORD.encode()) > MAX_PASSWORD_BYTES == 72
    assert verify(users, "alice", LONG_PASSWORD) is False
    assert verify(users, "nobody", LONG_PASSWORD) is False
    assert verify(users, "nobody", "drafting-dummy") is False  # the dummy hash's own password
    with pytest.raises(InputError, match="密码太长"):
        hash_password("a" * 73)


def test_http_oversize_password_same_chinese_answer_and_the_limit_stays_right(served: Served) -> None:
    served.clock.now += 10_000  # earlier tests' counters are forgotten
    known, unknown = login(served.url, "alice", LONG_PASSWORD), login(served.url, "nobody-such",
                                                                      LONG_PASSWORD)
    for r in (known, unknown):
        assert r.status_code == 400 and "密码太长" in r.json()["detail"]
    assert known.json() == unknown.json()  # nothing tells a known name from an unknown one
    for n in range(18):  # 20 in all from this address, the served app's address limit
        assert login(served.url, f"long{n}", LONG_PASSWORD).status_code == 400
    r = login(served.url, "alice", PASSWORDS["alice"])
    assert r.status_code == 400 and int(r.headers["retry-after"]) == 60  # locked for the designed 60 s…
    served.clock.now += 61
    assert login(served.url, "alice", PASSWORDS["alice"]).status_code == 200  # …not held "busy" for 15 min


def test_x_forwarded_for_from_an_unnamed_proxy_is_ignored(served: Served) -> None:
    served.clock.now += 10_000
    for n in range(20):
        r = login(served.url, f"xff{n}", "wrong-password", headers={"X-Forwarded-For": f"198.51.100.{n}"})
        assert r.status_code == 400
    assert not [k for k in served.limiter._state if k[1].startswith("198.51.100.")]
    r = login(served.url, "alice", PASSWORDS["alice"], headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 400 and "登录失败次数过多" in r.json()["detail"]  # a new header is no new address
    served.clock.now += 61
    assert os.environ.get("FORWARDED_ALLOW_IPS") == ""  # launch() with DRAFTING_TRUSTED_PROXIES unset


def test_x_forwarded_for_from_a_named_proxy_names_the_client() -> None:
    """Behind nginx: DRAFTING_TRUSTED_PROXIES names it, and uvicorn's proxy middleware (what launch()
    configures through FORWARDED_ALLOW_IPS) hands the client's address to the limiter."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from drafting.users import ClientAddress, client_ip

    settings = get_settings(trusted_proxies="10.0.0.5, 192.168.0.0/16")
    assert settings.trusted_proxy_list() == ["10.0.0.5", "192.168.0.0/16"]
    assert get_settings().trusted_proxy_list() == []
    seen: list[str | None] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(client_ip())

    stack = ProxyHeadersMiddleware(ClientAddress(app), trusted_hosts=",".join(settings.trusted_proxy_list()))
    for peer, xff in (("10.0.0.5", "203.0.113.7"), ("192.168.3.4", "203.0.113.8, 192.168.1.1"),
                      ("127.0.0.1", "203.0.113.9")):
        scope = {"type": "http", "client": (peer, 5000), "headers": [(b"x-forwarded-for", xff.encode())]}
        asyncio.run(stack(scope, None, None))
    assert seen == ["203.0.113.7", "203.0.113.8", "127.0.0.1"]


def test_api_needs_login(served: Served) -> None:
    r = httpx.get(served.url + "gradio_api/info", timeout=60)
    assert r.status_code == 401
    from gradio_client import Client

    with pytest.raises(Exception):  # noqa: B017 - gradio_client raises its own error types
        Client(served.url, auth=("alice", "wrong-password"), verbose=False)


# ---- separation through the HTTP API ---------------------------------------------------------
def _client(served: Served, name: str) -> Any:
    from gradio_client import Client

    served.clock.now += 10_000  # whatever earlier tests did to the limiter is long over
    return Client(served.url, auth=(name, PASSWORDS[name]), verbose=False, download_files=False)


def test_one_user_cannot_read_another_users_history_over_http(served: Served) -> None:
    from gradio_client.exceptions import AppError

    demo = served.demo
    draft_tab = next(d.fn.__self__ for d in demo.fns.values() if getattr(d.fn, "__name__", "") == "generate")
    history: HistoryTab = draft_tab_history(demo)
    a = _client(served, "alice")
    a.predict("（三）城市更新", BULLETS, {"headers": ["指标", "本期数值", "单位", "上期数值"],
                                          "data": EMPTY_TABLE},
              "工作总结", 400, "offline", api_name=served.api(draft_tab.generate))
    a.predict("（四）扬尘治理", "开展建筑工地扬尘专项整治\n检查工地86个",
              {"headers": ["指标", "本期数值", "单位", "上期数值"], "data": EMPTY_TABLE},
              "工作总结", 400, "offline", api_name=served.api(draft_tab.generate))
    rows_a, *_ = a.predict(api_name=served.api(history.refresh))
    ids_a = [int(r[0]) for r in rows_a["data"]]
    assert len(ids_a) == 2
    texts_a = [served_history(served).get("alice", i).text for i in ids_a]
    sessions_a = [s for s, *_ in served_history(served).sessions("alice")]
    # the owner can open, compare, restore and export through the same endpoints
    markers = ["检查工地86个", "3.2万户"]  # from A's bullets: in A's texts, so in any leak of them
    assert markers[0] in texts_a[0] and markers[1] in texts_a[1]
    meta, view = a.predict(ids_a[0], api_name=served.api(history.open))
    assert markers[0] in view
    meta, _view = a.predict(ids_a[1], ids_a[0], api_name=served.api(history.compare))
    assert f"版本 {ids_a[1]}" in meta
    out_a = a.predict([sessions_a[-1]], "城市更新", "", "", "", api_name=served.api(history.export_docx))
    assert "已导出" in out_a[1]
    restored = a.predict(ids_a[0], api_name=served.api(history.restore))
    assert markers[0] in json.dumps(restored, ensure_ascii=False)
    n_alice = served_history(served).count("alice")

    b = _client(served, "bob")
    secrets_a = [*markers, "城市更新", "扬尘治理", *sessions_a]
    seen: list[str] = []

    def call(*args: Any, api_name: str) -> None:
        try:
            seen.append(json.dumps(b.predict(*args, api_name=api_name), ensure_ascii=False, default=str))
        except AppError as exc:
            seen.append(str(exc))

    rows_b, pick_b, *_rest = b.predict(api_name=served.api(history.refresh))
    seen.append(json.dumps([rows_b, pick_b, *_rest], ensure_ascii=False, default=str))
    assert rows_b["data"] in ([], [[]]) or all(not any(str(c) for c in row) for row in rows_b["data"])
    for vid in ids_a:
        call(vid, api_name=served.api(history.check_pick))
        call(vid, api_name=served.api(history.open))
        call(vid, api_name=served.api(history.restore))
    call(ids_a[0], ids_a[1], api_name=served.api(history.check_pair))
    call(ids_a[0], ids_a[1], api_name=served.api(history.compare))
    for fn in (history.export_docx, history.export_markdown):
        call(sessions_a, "", "", "", "", api_name=served.api(fn))
        call([CURRENT, *sessions_a], "", "", "", "", api_name=served.api(fn))
    # Gradio refuses a value outside the session's choices and echoes it back: drop B's own input
    blob = re.sub(r"Value: .*? is not in the list of choices:", "", "\n".join(seen))
    for secret in secrets_a:
        assert secret not in blob
    for vid in ids_a:  # B's answers carry none of A's ids (choices, values, table rows)
        assert not re.search(rf"(?<![\d.]){vid}(?![\d.])", re.sub(r"找不到版本 \d+", "", blob))
    # behind Gradio's choice check, the handlers themselves filter by the logged-in user
    from gradio import Error

    bob = SimpleNamespace(username="bob")
    for vid in ids_a:
        for fn in (history.open, history.restore, history.check_pick):
            with pytest.raises(Error, match="找不到版本") as info:
                fn(vid, bob)
            assert not any(m in str(info.value) for m in markers)
        with pytest.raises(Error, match="找不到版本"):
            history.compare(vid, vid, bob)
    for fn in (history.export_docx, history.export_markdown):
        with pytest.raises(Error, match="所选各节都是空的"):
            fn(sessions_a, "", "", "", "", None, bob)
    assert served_history(served).count("alice") == n_alice  # B's restore attempts wrote nothing to A
    assert served_history(served).count("bob") == 0
    assert not list((served.settings.data_path() / "exports").glob(
        f"{served_ctx(served).exports_dir('bob').name}/*/*"))


def test_exports_folder_is_not_guessable(served: Served) -> None:
    """Gradio serves everything under allowed_paths (the exports folder) to any logged-in user
    who knows the path: the user's folder name is a hash of the name and the time is guessable, so
    every export folder carries 64 random bits."""
    ctx = served_ctx(served)
    history = draft_tab_history(served.demo)
    a = _client(served, "alice")
    draft_tab = next(d.fn.__self__ for d in served.demo.fns.values()
                     if getattr(d.fn, "__name__", "") == "generate")
    a.predict("（五）住房保障", "发放租赁补贴1.2万户", {"headers": ["指标", "本期数值", "单位", "上期数值"],
              "data": EMPTY_TABLE}, "工作总结", 400, "offline", api_name=served.api(draft_tab.generate))
    a.predict(api_name=served.api(history.refresh))
    for _ in range(2):  # two exports in the same second still get different folders
        a.predict([CURRENT], "住房保障", "", "", "", api_name=served.api(history.export_docx))
    folders = sorted(p.name for p in ctx.exports_dir("alice").iterdir())
    assert len(folders) >= 2
    assert folders and all(re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{16}", f) for f in folders)
    exported = next(ctx.exports_dir("alice").glob("*/*.docx"))
    guess = exported.parent.parent / exported.parent.name[:15] / exported.name  # what B could construct
    r = httpx.get(served.url + f"gradio_api/file={exported}", cookies=a.cookies, timeout=60)
    # the route serves the folder: only the name protects it
    assert r.status_code == 200 and r.content[:2] == b"PK"
    b = _client(served, "bob")
    cookies = b.cookies
    r = httpx.get(served.url + f"gradio_api/file={guess}", cookies=cookies, timeout=60)
    assert r.status_code in (403, 404)
    r = httpx.get(served.url + f"gradio_api/file={exported.parent.parent}", cookies=cookies, timeout=60)
    assert r.status_code != 200 or exported.name not in r.text


# ---- issue #11: session hashes, the editor save, uploads ---------------------------------------
def draft_tab_of(demo: Any) -> Any:
    return next(d.fn.__self__ for d in demo.fns.values() if getattr(d.fn, "__name__", "") == "generate")


def test_a_session_hash_serves_only_its_own_user(served: Served) -> None:
    """With alice's session hash, bob's export_markdown(["current"]) returned alice's draft, and an
    anonymous /cancel stopped her draft from reaching her screen."""
    from drafting.errors import InputError

    a = _client(served, "alice")
    a.predict("（六）城市体检", "完成城市体检评估指标68项", {"headers": ["指标", "本期数值", "单位",
                                                                         "上期数值"],
              "data": EMPTY_TABLE}, "工作总结", 400, "offline",
              api_name=served.api(draft_tab_of(served.demo).generate))
    history = draft_tab_history(served.demo)
    a.predict(api_name=served.api(history.refresh))  # the 历史 tab lists the current draft for export
    own = a.predict([CURRENT], "城市体检", "", "", "", api_name=served.api(history.export_markdown))
    assert "已导出" in own[1]
    b = _client(served, "bob")
    b.session_hash = a.session_hash  # bob has learnt alice's session hash
    with pytest.raises(Exception) as info:  # gradio_client raises its own error types
        b.predict([CURRENT], "城市体检", "", "", "", api_name=served.api(history.export_markdown))
    assert "68项" not in str(info.value)
    base = served.url + "gradio_api/"
    body = {"session_hash": a.session_hash, "fn_index": 0, "event_id": "0" * 32}
    r = httpx.post(base + "cancel", json=body, timeout=60)  # anonymous
    assert r.status_code == 401 and "重新登录" in r.json()["detail"]
    for call in (lambda: httpx.post(base + "cancel", json=body, cookies=b.cookies, timeout=60),
                 lambda: httpx.get(base + "queue/data", params={"session_hash": a.session_hash},
                                   cookies=b.cookies, timeout=60),
                 lambda: httpx.get(base + f"heartbeat/{a.session_hash}", cookies=b.cookies, timeout=60)):
        r = call()
        assert r.status_code == 403 and "属于另一位用户" in r.json()["detail"]
    # behind the HTTP check, the handlers check it too
    ctx = served_ctx(served)
    with pytest.raises(InputError, match="属于另一位用户"):
        ctx.user(SimpleNamespace(username="bob", session_hash=a.session_hash))
    assert ctx.user(SimpleNamespace(username="alice", session_hash=a.session_hash)) == "alice"
    out = a.predict([CURRENT], "城市体检", "", "", "", api_name=served.api(history.export_markdown))
    assert "已导出" in out[1]  # alice's session is untouched


def test_a_save_never_waits_behind_another_writers_check(served: Served,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """One writer's check is held open; another writer's save still completes and is stored."""
    tab = draft_tab_of(served.demo)
    release, entered = threading.Event(), threading.Event()
    real = tab._checks

    def held(text: str, *rest: Any) -> Any:
        if text.startswith("慢稿"):
            entered.set()
            release.wait(300)
        return real(text, *rest)

    monkeypatch.setattr(tab, "_checks", held)
    a, b = _client(served, "alice"), _client(served, "bob")
    try:
        job = a.submit("慢稿\n" + "扎实推进城市更新。" * 2000, api_name="/check_edit")
        assert entered.wait(300)
        status = b.submit("城市体检\n完成城市体检评估指标68项。", api_name="/save_edit").result(timeout=300)
        assert not job.done()  # alice's check is still held: bob's save did not wait for it
    finally:
        release.set()
    vid = int(re.search(r"版本 (\d+)", str(status)).group(1))  # type: ignore[union-attr]
    assert served_history(served).get("bob", vid).text == "城市体检\n完成城市体检评估指标68项。"
    annotated, *_rest = job.result(timeout=300)
    assert 'id="para-1"' in annotated


def _upload(served: Served, cookies: Any, name: str, data: bytes) -> httpx.Response:
    return httpx.post(served.url + "gradio_api/upload", files=[("files", (name, data, "text/plain"))],
                      cookies=cookies, timeout=60)


def test_uploads_have_a_per_user_quota_and_the_temp_folder_is_cleaned(served: Served) -> None:
    b, c = _client(served, "bob"), _client(served, "carol")
    chunk = os.urandom(400_000)
    assert _upload(served, b.cookies, "a.txt", chunk).status_code == 200
    assert _upload(served, b.cookies, "b.txt", chunk).status_code == 200
    r = _upload(served, b.cookies, "c.txt", chunk)  # 1.2 MB in all, over bob's 1 MB
    assert (r.status_code == 413 and "上传未完成" in r.text and "上限 1 MB" in r.text
        and "联系管理员" in r.text)
    assert _upload(served, c.cookies, "a.txt", chunk).status_code == 200  # the quota is per user
    assert _upload(served, None, "a.txt", b"x").status_code == 401
    from drafting.ui.app import cache_cleanup

    assert served.demo.delete_cache == cache_cleanup(served.settings) == (600, 6 * 3600)


def test_hidden_file_uploads_are_refused_in_chinese(served: Served) -> None:
    """Gradio refuses a dotfile when the import runs (its temp folder inside the working directory),
    with an empty toast; the upload is refused at once, with a message the upload widget shows."""
    from gradio.utils import get_upload_folder

    cache = Path(get_upload_folder())
    stored = (".hidden.txt", "....y.txt")  # "..\\..\\y.txt" loses its backslashes in Gradio
    for name in stored:
        for old in cache.rglob(name):
            old.unlink()
    a = _client(served, "alice")
    for name in (".hidden.txt", "..\\..\\y.txt"):
        r = _upload(served, a.cookies, name, b"hidden " + name.encode())
        assert r.status_code == 400 and "以“.”开头" in r.text and "去掉开头的点" in r.text
    assert not [p for name in stored for p in cache.rglob(name)]  # nothing of them stays
    assert _upload(served, a.cookies, "正常.txt", b"fine").status_code == 200


def draft_tab_history(demo: Any) -> HistoryTab:
    return next(d.fn.__self__ for d in demo.fns.values() if getattr(d.fn, "__name__", "") == "compare")


def served_ctx(served: Served) -> AppContext:
    return served.demo.drafting_ctx  # type: ignore[no-any-return]


def served_history(served: Served) -> Any:
    return served_ctx(served).history()


# ---- uploads ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../x.txt", "x.txt"),
        ("/etc/passwd.md", "passwd.md"),
        ("C:\\Windows\\报告.docx", "报告.docx"),
        ("a\x00b.txt", "ab.txt"),
        ("..", "上传文件"),
        ("", "上传文件"),
        (".bashrc.txt", "bashrc.txt"),
        ("report\u202etxt.exe", "reporttxt.exe"),
        ('a<b>:c"|?*.md', "a_b__c____.md"),
    ],
)
def test_safe_upload_name(name: str, expected: str) -> None:
    assert safe_upload_name(name) == expected


def test_safe_upload_name_long_names_keep_the_extension() -> None:
    for name in ("x" * 1000 + ".docx", "报告" * 300 + ".pdf"):
        safe = safe_upload_name(name)
        assert len(safe.encode("utf-8")) <= MAX_NAME_BYTES
        assert Path(safe).suffix == Path(name).suffix
        assert "/" not in safe and "\x00" not in safe


def test_upload_handler_never_writes_outside_uploads(tmp_path: Path) -> None:
    settings = get_settings(store=tmp_path / "store", data_dir=tmp_path / "data", max_file_mb=0.04)
    tab = CorpusTab(AppContext.create(settings))
    src = tmp_path / "in" / "deep"
    src.mkdir(parents=True)
    good = src / "市住建局2023年上半年工作总结.txt"
    shutil.copyfile(SEEDS / good.name, good)
    exe = src / "tool.exe"
    exe.write_bytes(b"MZ" + b"\x00" * 100)
    big = src / "big.txt"
    big.write_text("住建" * 10_000, encoding="utf-8")  # 60 KB > 0.04 MB
    hidden = src / ".env.md"
    hidden.write_text("# 说明\n正文内容。", encoding="utf-8")
    files = [
        str(good), str(exe), str(big), str(hidden),
        str(src / ".."),  # a folder
        str(src / "../../escape.txt"),  # does not exist
        str(src / "nul\x00byte.txt"),
        str(src / ("长" * 200 + ".txt")),  # too long for the file system
        "/etc/passwd",
    ]
    rows, line, *_rest = tab.upload(files, None, progress=lambda *a, **k: None)
    outcome = {r[0]: r[1] for r in rows}
    assert outcome[good.name] == "新增"
    assert sum(1 for r in rows if r[1] == "失败") == len(files) - 2  # good and hidden are taken
    reasons = " ".join(str(r[3]) for r in rows)
    assert "不支持 .exe" in reasons and "超过上限" in reasons and "读取不到" in reasons
    assert all(HAN.search(str(r[3])) for r in rows if r[1] == "失败")
    uploads = (settings.data_path() / "uploads").resolve()
    stored = sorted(p.name for p in uploads.iterdir())
    assert stored == sorted([good.name, "env.md"])  # refused files were never copied
    assert all(p.resolve().parent == uploads for p in uploads.iterdir())
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "in" / "escape.txt").exists()
    assert "失败" in line


def test_upload_refused_for_non_admin(tmp_path: Path) -> None:
    from gradio import Error

    users = tmp_path / "users.json"
    add_user(users, "bob", PASSWORDS["bob"])
    settings = get_settings(store=tmp_path / "store", data_dir=tmp_path / "data", users_file=users)
    tab = CorpusTab(AppContext.create(settings))
    good = tmp_path / "a.txt"
    good.write_text("正文", encoding="utf-8")
    with pytest.raises(Error, match="不是管理员"):
        tab.upload([str(good)], SimpleNamespace(username="bob"), progress=lambda *a, **k: None)
    assert not (settings.data_path() / "uploads" / "a.txt").exists()


# ---- API keys ------------------------------------------------------------------------------
LLM_KEY = "sk-secret-XYZ-llm-0123456789"
EMBED_KEY = "sk-secret-XYZ-embed-9876543210"


def _contains_key(data: bytes) -> bool:
    return any(k.encode() in data or k.encode("utf-16-le") in data
               for k in (LLM_KEY, EMBED_KEY, "sk-secret-XYZ"))


def _file_bytes(root: Path) -> bytes:
    out = []
    for p in sorted(root.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            out.append(data)
            if p.suffix == ".docx":
                with zipfile.ZipFile(p) as z:
                    out.extend(z.read(n) for n in z.namelist())
    return b"\n".join(out)


def test_api_keys_never_logged_shown_or_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str]
) -> None:
    from drafting.ui.draft_tab import DraftTab

    stub = OpenAIStub().start()
    try:
        monkeypatch.setenv("DRAFTING_LLM_API_KEY", LLM_KEY)
        monkeypatch.setenv("DRAFTING_EMBED_API_KEY", EMBED_KEY)
        caplog.set_level(logging.DEBUG)
        for name in ("httpx", "httpx2", "httpcore", "httpcore2", "openai", "langchain", "chromadb",
                     "drafting", "gradio"):
            logging.getLogger(name).setLevel(logging.DEBUG)
        settings = get_settings(
            store=tmp_path / "store", data_dir=tmp_path / "data", engine="openai", llm_base_url=stub.base_url,
            llm_model="stub-model", llm_retries=0, embed_base_url=stub.base_url, embed_model="stub-embed",
        )
        assert settings.llm_api_key == LLM_KEY and settings.embed_api_key == EMBED_KEY  # the keys are in play
        assert not _contains_key(repr(settings).encode()) and not _contains_key(str(settings).encode())
        corpus = tmp_path / "corpus"
        corpus.mkdir()
        for p in sorted(SEEDS.glob("*.txt"))[:2]:
            shutil.copyfile(p, corpus / p.name)
        report = ingest([corpus], settings)
        assert report.added == 2
        assert any(r["path"].endswith("/embeddings") for r in stub.requests)  # the endpoint embedder was used

        ctx = AppContext.create(settings)
        draft, history = DraftTab(ctx), HistoryTab(ctx)
        outputs: list[Any] = [draft.engine_status("openai"), draft.engine_status("offline")]
        stub.enqueue(Reply(text="全市老旧小区改造完成120个，惠及居民3.2万户。新增公共停车泊位1.2万个。"))
        steps = list(draft.generate("城市更新", BULLETS, EMPTY_TABLE, "工作总结", 400, "openai", None))
        outputs += steps
        state = steps[-1][5]
        assert state["version"] and "120个" in state["text"]
        stub.enqueue(Reply(status=500))
        failed = list(draft.generate("扬尘治理", BULLETS, EMPTY_TABLE, "工作总结", 400, "openai", None))
        outputs += failed
        assert "出错" in str(failed[-1][6])  # the failure reached the writer
        stub.enqueue(Reply(text="半截", cut_after=1))
        outputs += list(draft.generate("扬尘治理", BULLETS, EMPTY_TABLE, "工作总结", 400, "openai", None))
        outputs.append(history.refresh(state, None))
        outputs.append(history.export_docx([CURRENT], "城市更新", "市住建局", "", state["text"], state, None))
        outputs.append(history.export_markdown([CURRENT], "城市更新", "市住建局", "", state["text"], state,
                                               None))
        for v in ctx.history().versions("本机用户"):
            outputs.append(history.open(v.id, None))
        # the store: Chroma's collection config for the endpoint embedder
        store = ctx.store()
        config = store.collection.configuration_json
        outputs.append(config)
        ef_conf = json.dumps(config, ensure_ascii=False, default=str)
        assert "drafting-endpoint" in ef_conf and stub.base_url in ef_conf
        ef = store.embedder
        assert set(ef.get_config()) == {"base_url", "model"}
    finally:
        stub.stop()

    rendered = json.dumps(outputs, ensure_ascii=False, default=str)
    assert "120个" in rendered
    assert not _contains_key(rendered.encode())
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    names = {r.name for r in caplog.records}
    # DEBUG was captured
    assert "openai._base_client" in names and any(n.startswith("httpcore") for n in names)
    assert caplog.records and not _contains_key(logged.encode())
    out, err = capfd.readouterr()
    assert not _contains_key((out + err).encode())
    history_db = _file_bytes(tmp_path / "data")
    assert list((tmp_path / "data").rglob("history.sqlite3")) and list((tmp_path / "data").rglob("*.docx"))
    assert list((tmp_path / "data").rglob("*.md"))
    assert not _contains_key(history_db)
    assert not _contains_key(_file_bytes(tmp_path / "store"))
