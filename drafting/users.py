"""Optional accounts for the web UI: a JSON users file with bcrypt password hashes.

    {"users": [{"name": "张三", "password_hash": "$2b$12$…", "admin": true}]}

Admins may change the shared corpus; everyone drafts, and each user's history is their own.
Without a users file the UI runs for one local user (``LOCAL_USER``) and only on 127.0.0.1.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt

from drafting.errors import ConfigError, InputError

LOCAL_USER = "本机用户"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MIN_PASSWORD = 8
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further, and bcrypt 5 raises ValueError beyond it
BCRYPT_ROUNDS = 12  # cost factor: about a quarter of a second per check on one core
PASSWORD_TOO_LONG = (
    f"密码太长：超过{MAX_PASSWORD_BYTES}字节（约24个汉字或72个英文字母、数字），不可能是正确的密码。"
    "请检查是否粘贴了多余的内容后重新输入；忘记密码请联系管理员重设。"
)


@dataclass(frozen=True)
class User:
    name: str
    password_hash: str
    admin: bool = False


def password_too_long(password: str) -> bool:
    """Longer than bcrypt can check: refused the same way for every name, known or not."""
    return len(password.encode("utf-8", "surrogatepass")) > MAX_PASSWORD_BYTES


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"密码太短：至少{MIN_PASSWORD}位。请换一个更长的密码。")
    if password_too_long(password):
        raise InputError(f"密码太长：bcrypt 只认前{MAX_PASSWORD_BYTES}字节（约24个汉字）。"
                         "请换一个短一些的密码。")
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=BCRYPT_ROUNDS)).decode("ascii")


def load_users(path: Path) -> dict[str, User]:
    """Users by name; a missing, unreadable or malformed file is a :class:`ConfigError`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(
            f"找不到用户文件 {path}。请先运行 drafting users add 用户名 --admin 建立账号，"
            "或检查 DRAFTING_USERS_FILE 的路径。",
        ) from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"用户文件 {path} 无法读取或不是有效的 JSON。请检查文件内容。",
                          detail=str(exc)) from exc
    rows = data.get("users") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ConfigError(f"用户文件 {path} 缺少 \"users\" 列表。格式见 docs/architecture.md。")
    users: dict[str, User] = {}
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not row.get("name") or not row.get("password_hash"):
            raise ConfigError(f"用户文件 {path} 第{n}个用户缺少 name 或 password_hash。请补全后再启动。")
        users[str(row["name"])] = User(str(row["name"]), str(row["password_hash"]),
                                       bool(row.get("admin", False)))
    return users


_DUMMY_HASH: bytes | None = None  # checked for unknown names, so they take as long to refuse as known ones


def verify(users: dict[str, User], name: str, password: str) -> bool:
    """True for the right password.  A known and an unknown name go down the same path (an unknown
    one is checked against a dummy hash), and a password bcrypt cannot check (empty, over
    ``MAX_PASSWORD_BYTES``, not encodable) is refused before either, so no answer tells them apart."""
    global _DUMMY_HASH
    user = users.get(name)
    if not password or password_too_long(password):
        return False
    if _DUMMY_HASH is None:
        _DUMMY_HASH = bcrypt.hashpw(b"drafting-dummy", bcrypt.gensalt(rounds=BCRYPT_ROUNDS))
    stored = user.password_hash.encode("ascii", "replace") if user is not None else _DUMMY_HASH
    try:
        ok = bcrypt.checkpw(password.encode("utf-8"), stored)
    except (ValueError, UnicodeError):  # a malformed hash or a lone surrogate never matches
        return False
    return ok and user is not None


def add_user(path: Path, name: str, password: str, *, admin: bool = False) -> User:
    """Add or replace one user in the file (created if missing); written atomically."""
    name = name.strip()
    if not name:
        raise InputError("用户名是空的。请给出用户名，例如 drafting users add 张三 --admin。")
    users = load_users(path) if Path(path).exists() else {}
    users[name] = User(name, hash_password(password), admin)
    payload = {"users": [{"name": u.name, "password_hash": u.password_hash, "admin": u.admin}
                         for u in users.values()]}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return users[name]


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def require_accounts(host: str, users_file: Path | None) -> None:
    """Refuse to serve beyond loopback without accounts."""
    if not is_loopback(host) and users_file is None:
        raise ConfigError(
            f"界面要在 {host} 上对外提供服务，但没有设置用户文件，任何人都能访问。"
            "请先运行 drafting users add 用户名 --admin 建立账号，并设置 DRAFTING_USERS_FILE 指向该文件；"
            "或改用 127.0.0.1 只在本机使用。"
        )


# ---- login rate limit ------------------------------------------------------------------------
@dataclass
class _Failures:
    count: int = 0  # attempts since the last lock (an attempt counts until it succeeds)
    level: int = 0  # locks so far: the next one lasts base_lock * 2**level
    locked_until: float = 0.0
    last: float = 0.0


BUSY_RETRY = 3.0  # seconds to wait when the address's quota is held by logins still being checked


class LoginLimiter:
    """Failed-login counters per user name and per client address, with a doubling lock.

    ``max_failures`` failed attempts for one name (``ip_max_failures`` for one address) lock it
    for ``base_lock`` seconds, the next lock twice as long, up to ``max_lock``.  A quiet
    ``reset_after`` seconds after the last failure forgets a counter.  An attempt counts as a
    failure from :meth:`acquire` until :meth:`succeeded`, so parallel guesses cannot slip past the
    limit while the password check runs.  Thread-safe; ``clock`` is injectable for tests.
    """

    def __init__(
        self, *, max_failures: int = 5, ip_max_failures: int = 50, base_lock: float = 60.0,
        max_lock: float = 3600.0,
        reset_after: float = 900.0, max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = {"user": max_failures, "ip": ip_max_failures}
        self.base_lock, self.max_lock, self.reset_after = base_lock, max_lock, reset_after
        self.max_keys = max_keys
        self.clock = clock
        self._state: dict[tuple[str, str], _Failures] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(name: str, ip: str | None) -> list[tuple[str, str]]:
        return [("user", name.strip())] + ([("ip", ip)] if ip else [])

    def _get(self, key: tuple[str, str], now: float) -> _Failures:
        f = self._state.get(key)
        if f is not None and now >= f.locked_until and now - max(f.last, f.locked_until) > self.reset_after:
            f = None  # quiet long enough: forgotten
        if f is None:
            if len(self._state) >= self.max_keys:
                self._prune(now)
            f = self._state[key] = _Failures()
        return f

    def _prune(self, now: float) -> None:
        for key in [k for k, f in self._state.items() if f.locked_until <= now]:
            del self._state[key]
        if len(self._state) >= self.max_keys:  # all locked: drop the oldest
            for key in sorted(self._state, key=lambda k: self._state[k].last)[: len(self._state) // 2]:
                del self._state[key]

    def acquire(self, name: str, ip: str | None = None) -> float:
        """0 when an attempt may go ahead (it counts as a failure until :meth:`succeeded`); else the
        seconds until the name or address may try again (nothing is counted)."""
        with self._lock:
            now = self.clock()
            states = [(kind, self._get((kind, value), now)) for kind, value in self._keys(name, ip)]
            wait = 0.0
            for kind, f in states:
                if f.locked_until > now:
                    wait = max(wait, f.locked_until - now)
                elif f.count >= self.limits[kind]:  # the quota is taken by attempts still running
                    wait = max(wait, BUSY_RETRY)  # not a lock: colleagues behind one address log in together
            if wait:
                return wait
            for _kind, f in states:
                f.count += 1
                f.last = now
            return 0.0

    def failed(self, name: str, ip: str | None = None) -> None:
        """The attempt let in by :meth:`acquire` had a wrong password: lock what reached its limit."""
        with self._lock:
            now = self.clock()
            for kind, value in self._keys(name, ip):
                f = self._get((kind, value), now)
                f.last = now
                if f.count >= self.limits[kind]:
                    f.locked_until = now + self._duration(f.level)
                    f.level += 1
                    f.count = 0

    def succeeded(self, name: str, ip: str | None = None) -> None:
        """A right password: the name starts afresh; the address gets its attempt back."""
        with self._lock:
            now = self.clock()
            keys = self._keys(name, ip)
            self._state.pop(keys[0], None)
            for key in keys[1:]:
                f = self._get(key, now)
                f.count = max(0, f.count - 1)

    def _duration(self, level: int) -> float:
        return float(min(self.max_lock, self.base_lock * 2 ** min(level, 32)))


def locked_message(seconds: float) -> str:
    """The Chinese refusal while a name or address is locked."""
    wait = max(1, math.ceil(seconds))
    when = f"{wait}秒" if wait < 120 else f"{math.ceil(wait / 60)}分钟"
    return f"登录失败次数过多，已暂停登录。请在{when}后再试；忘记密码请联系管理员重设。"


# The client address of the HTTP request being served, for the limiter: Gradio hands its ``auth``
# callable only the name and password, so :class:`ClientAddress` (an ASGI middleware) records it.
_client_ip: ContextVar[str | None] = ContextVar("drafting_client_ip", default=None)


def client_ip() -> str | None:
    return _client_ip.get()


class ClientAddress:
    """ASGI middleware: remember each HTTP request's client address (see :func:`client_ip`).

    Behind a reverse proxy this is the proxy's address unless uvicorn trusts its
    ``X-Forwarded-For`` (by default only from 127.0.0.1)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        token = _client_ip.set(str(client[0]) if client else None)
        try:
            await self.app(scope, receive, send)
        finally:
            _client_ip.reset(token)
