"""Guards in front of Gradio's HTTP routes: one ASGI middleware (:class:`RequestGuard`, passed
through ``launch(app_kwargs=…)``, see ``drafting.ui.app.launch_kwargs``).

- **A session hash belongs to its user.** Gradio keys a page's server-side state (``gr.State``,
  queued events, their results) by a random session hash and never checks it against the login.
  The first logged-in user seen with a hash owns it (:class:`SessionOwners`); any request that
  carries the hash (``queue/join``, ``queue/data``, ``cancel``, ``heartbeat``, ``call``/``run``
  bodies, ``stream``) from another user, or from nobody, is refused.  ``AppContext.user`` checks
  the same table inside every handler.
- **Uploads have a per-user quota** (:class:`UploadQuota`): bytes a user sent to Gradio's temp
  folder within ``upload_keep_hours``, the age after which Gradio's ``delete_cache`` removes them.
- **An upload named like a hidden file** (``.hidden.txt``, ``..\\..\\y.txt``, which Gradio stores
  as ``....y.txt``) is refused at once with a Chinese message: Gradio itself would refuse it later,
  when the import runs, with an empty error toast.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import cookie_parser

API = "/gradio_api/"
MAX_JSON_BODY = 32 * 1024 * 1024  # a draft request is ~60 KB of JSON at the editor limit
SESSION_NOT_YOURS = ("这个页面会话属于另一位用户，不能读取、修改或取消其中的内容。"
                     "请刷新页面，用自己的账号重新登录。")
SESSION_NO_LOGIN = "登录已失效或尚未登录。请刷新页面重新登录。"
HIDDEN_UPLOAD = (
    "没有上传：{names} 的文件名以“.”开头（隐藏文件，或名字里带有路径符号），这样的文件不能导入。"
    "请把文件改成正常的名字（去掉开头的点和路径符号）后重新选择上传。"
)
BODY_TOO_LARGE = "请求太大（超过32 MB），已拒绝。编辑框里的稿件每节不超过2万字，请分节处理。"
NO_LENGTH = "上传请求没有注明大小，已拒绝。请用浏览器页面上的文件框上传。"


class SessionOwners:
    """Session hash → the user who first used it (thread-safe, bounded: the oldest are forgotten)."""

    def __init__(self, max_sessions: int = 100_000) -> None:
        self.max_sessions = max_sessions
        self._owners: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, session_hash: str, user: str) -> bool:
        """True when ``user`` owns ``session_hash`` (a new hash becomes theirs)."""
        with self._lock:
            owner = self._owners.get(session_hash)
            if owner is None:
                self._owners[session_hash] = user
                if len(self._owners) > self.max_sessions:
                    self._owners.popitem(last=False)
                return True
            return owner == user


class UploadQuota:
    """Bytes each user uploaded within the last ``window`` seconds, against ``limit`` (thread-safe)."""

    def __init__(self, limit: float, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._sent: dict[str, deque[tuple[float, int]]] = {}
        self._lock = threading.Lock()

    def _recent(self, user: str) -> deque[tuple[float, int]]:
        q = self._sent.setdefault(user, deque())
        cutoff = self.clock() - self.window
        while q and q[0][0] < cutoff:
            q.popleft()
        return q

    def used(self, user: str) -> int:
        with self._lock:
            return sum(n for _t, n in self._recent(user))

    def reserve(self, user: str, nbytes: int) -> bool:
        with self._lock:
            q = self._recent(user)
            if sum(n for _t, n in q) + nbytes > self.limit:
                return False
            q.append((self.clock(), nbytes))
            return True

    def release(self, user: str, nbytes: int) -> None:
        """Give back a reservation whose upload failed."""
        with self._lock:
            q = self._recent(user)
            for i in range(len(q) - 1, -1, -1):
                if q[i][1] == nbytes:
                    del q[i]
                    return


def quota_message(used: int, limit: float, hours: float) -> str:
    mb = 1024 * 1024
    return (
        f"上传未完成：您最近{hours:g}小时内已上传 {used / mb:.1f} MB，每人上限 {limit / mb:.0f} MB。"
        f"上传的临时文件满{hours:g}小时会自动清理，之后可以继续上传；急需时请联系管理员调大 "
        "DRAFTING_UPLOAD_QUOTA_MB。"
    )


def _session_from_path(route: str, method: str) -> str | None:
    parts = route.split("/")
    if parts[0] == "heartbeat" and len(parts) >= 2:
        return parts[1] or None
    if parts[0] == "stream" and method == "GET" and len(parts) >= 4:  # stream/{session}/{run}/{component}/…
        return parts[1] or None
    return None


class RequestGuard:
    """ASGI middleware: see the module docstring.  ``ctx`` is the app's ``AppContext``."""

    def __init__(self, app: Any, ctx: Any) -> None:
        self.app = app
        self.ctx = ctx

    # ---- helpers ------------------------------------------------------------------------------
    @staticmethod
    def _header(scope: Any, name: bytes) -> str:
        for key, value in scope.get("headers") or []:
            if key == name:
                return str(value.decode("latin-1"))
        return ""

    def _user(self, scope: Any) -> str | None:
        """The logged-in user of this request (Gradio's own cookie → token table), else None."""
        if not self.ctx.auth_enabled:
            from drafting.users import LOCAL_USER

            return LOCAL_USER
        gradio_app = scope.get("app")
        tokens = getattr(gradio_app, "tokens", None)
        cookie_id = getattr(gradio_app, "cookie_id", None)
        if tokens is None or cookie_id is None:
            return None
        cookies = cookie_parser(self._header(scope, b"cookie"))
        token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
        user = tokens.get(token) if token else None
        return str(user) if user else None

    @staticmethod
    async def _answer(send: Any, status: int, message: str, *, text: bool = False) -> None:
        if text:  # the upload widget shows the body as is: "HTTP 413: …"
            body, kind = message.encode("utf-8"), b"text/plain; charset=utf-8"
        else:
            body, kind = json.dumps({"detail": message},
                                    ensure_ascii=False).encode("utf-8"), b"application/json"
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    # ---- the middleware -----------------------------------------------------------------------
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope.get("type") == "http" else ""
        at = path.find(API)
        if at < 0:
            await self.app(scope, receive, send)
            return
        route = path[at + len(API):]
        method = scope.get("method", "GET")
        if method == "POST" and route.rstrip("/") == "upload":
            await self._upload(scope, receive, send)
            return
        session = _session_from_path(route, method)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        session = session or (query.get("session_hash") or [None])[0]
        if method == "POST" and "json" in self._header(scope, b"content-type"):
            body, receive = await self._read_body(receive)
            if body is None:
                await self._answer(send, 413, BODY_TOO_LARGE)
                return
            try:
                data = json.loads(body) if body else None
            except ValueError:
                data = None  # Gradio answers malformed JSON itself
            if isinstance(data, dict) and isinstance(data.get("session_hash"), str):
                session = data["session_hash"]
        if session and self.ctx.auth_enabled:
            user = self._user(scope)
            if user is None:
                await self._answer(send, 401, SESSION_NO_LOGIN)
                return
            if not self.ctx.sessions.claim(session, user):
                await self._answer(send, 403, SESSION_NOT_YOURS)
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _read_body(receive: Any) -> tuple[bytes | None, Any]:
        """The whole request body (None past MAX_JSON_BODY) and a ``receive`` that replays it."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_JSON_BODY:
                return None, receive
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return body, replay

    async def _upload(self, scope: Any, receive: Any, send: Any) -> None:
        user = self._user(scope)
        if user is None:  # Gradio's own login check answers 401
            await self.app(scope, receive, send)
            return
        settings = self.ctx.settings
        try:
            length = int(self._header(scope, b"content-length"))
        except ValueError:
            await self._answer(send, 411, NO_LENGTH, text=True)
            return
        quota: UploadQuota = self.ctx.upload_quota
        if not quota.reserve(user, length):
            await self._answer(send, 413, quota_message(quota.used(user), quota.limit,
                                                        settings.upload_keep_hours),
                               text=True)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            quota.release(user, length)
            raise
        body = b"".join(chunks)
        status = int(start.get("status", 500))
        if status == 200:
            try:
                paths = [str(p) for p in json.loads(body)]
            except (ValueError, TypeError):
                paths = []
            hidden = [Path(p).name for p in paths if Path(p).name.startswith(".")]
            if hidden:
                for p in paths:  # nothing of a refused upload stays in the temp folder
                    with contextlib.suppress(OSError):
                        os.remove(p)
                quota.release(user, length)
                names = "、".join(f"“{n}”" for n in hidden)
                await self._answer(send, 400, HIDDEN_UPLOAD.format(names=names), text=True)
                return
        else:
            quota.release(user, length)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
