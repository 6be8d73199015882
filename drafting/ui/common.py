"""What every tab shares: the app context (settings, store, history, users), the one place where
``DraftingError`` becomes ``gr.Error``, the current user, and chat-message normalisation."""

from __future__ import annotations

import functools
import html
import inspect
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr

from drafting.errors import DraftingError, InputError
from drafting.settings import Settings
from drafting.ui.http_guard import SESSION_NOT_YOURS, SessionOwners, UploadQuota
from drafting.users import LOCAL_USER, User, load_users

F = TypeVar("F", bound=Callable[..., Any])
ERROR_TITLE = "出错了"


def ui_errors(fn: F) -> F:
    """Turn a :class:`DraftingError` into ``gr.Error`` with its Chinese help; anything else propagates."""

    def convert(exc: DraftingError) -> gr.Error:
        return gr.Error(html.escape(exc.help_message), title=ERROR_TITLE, duration=None,
                        print_exception=False)

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen(*args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from fn(*args, **kwargs)
            except DraftingError as exc:
                raise convert(exc) from exc

        return gen  # type: ignore[return-value]  # wraps() keeps fn's signature; mypy sees a new callable

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DraftingError as exc:
            raise convert(exc) from exc

    return call  # type: ignore[return-value]  # wraps() keeps fn's signature; mypy sees a new callable


@dataclass
class AppContext:
    """One per app: settings plus lazily opened shared resources."""

    settings: Settings
    users: dict[str, User] | None = None
    _store: Any = None
    _history: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    corpus_lock: threading.Lock = field(default_factory=threading.Lock)
    sessions: SessionOwners = field(default_factory=SessionOwners)  # Gradio session hash → its user
    upload_quota: UploadQuota = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.upload_quota = UploadQuota(s.upload_quota_mb * 1024 * 1024, s.upload_keep_hours * 3600)

    @classmethod
    def create(cls, settings: Settings) -> AppContext:
        users = load_users(settings.users_file) if settings.users_file else None
        return cls(settings=settings, users=users)

    @property
    def auth_enabled(self) -> bool:
        return self.users is not None

    def store(self) -> Any:
        with self._lock:
            if self._store is None:
                from drafting.store import CorpusStore

                self._store = CorpusStore(self.settings)
            else:
                self._store.refresh()
            return self._store

    def history(self) -> Any:
        with self._lock:
            if self._history is None:
                from drafting.history import History

                self._history = History.for_settings(self.settings)
            return self._history

    def user(self, request: gr.Request | None) -> str:
        """The logged-in user, or the single local user when accounts are off."""
        name = getattr(request, "username", None) if request is not None else None
        if self.auth_enabled:
            if not name:
                raise InputError("登录已失效。请刷新页面重新登录。")
            # the page's state is keyed by its session hash: it must be this user's (see ui/http_guard.py)
            session = getattr(request, "session_hash", None)
            if session and not self.sessions.claim(str(session), str(name)):
                raise InputError(SESSION_NOT_YOURS)
            return str(name)
        return str(name or LOCAL_USER)

    def is_admin(self, user: str) -> bool:
        if self.users is None:
            return True  # one local user on 127.0.0.1 owns the corpus
        u = self.users.get(user)
        return bool(u and u.admin)

    def require_admin(self, user: str) -> None:
        if not self.is_admin(user):
            raise InputError(
                f"“{user}”不是管理员，不能修改共享语料库（上传、删除、重建索引）。请联系管理员操作；检索和查看不受影响。"
            )

    def warm_up(self) -> None:
        """Open the store, keyword index, style profile and jieba once, so the first draft is quick."""
        try:
            from drafting.drafter import house_style
            from drafting.search import search

            store = self.store()
            if store.count():
                house_style(store)
                search(store, "扎实推进工作", k=1)
        except DraftingError:  # the first real request reports it to the writer
            return

    def exports_dir(self, user: str) -> Path:
        import hashlib

        slug = hashlib.sha256(user.encode("utf-8")).hexdigest()[:12]
        path = self.settings.data_path() / "exports" / slug
        path.mkdir(parents=True, exist_ok=True)
        return path


def message_text(content: Any) -> str:
    """Text of one chat message content: a string, or (Gradio 6) a list of parts / a part dict."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        if content.get("type") == "text" or "text" in content:
            return str(content.get("text") or "")
        return ""
    if isinstance(content, (list, tuple)):
        return "".join(message_text(p) for p in content)
    return str(getattr(content, "text", "") or "")


def normalise_chat(value: Any) -> list[dict[str, str]]:
    """Chatbot value → ``[{"role", "content": str}]`` whatever shape Gradio handed back."""
    out = []
    for m in value or []:
        role = m.get("role") if isinstance(m, dict) else getattr(m, "role", None)
        content = m.get("content") if isinstance(m, dict) else getattr(m, "content", None)
        if role in ("user", "assistant"):
            out.append({"role": str(role), "content": message_text(content)})
    return out


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def when(stamp: str, now: datetime | None = None) -> str:
    """A stored ISO time as the writer reads it, in the server's local time: 「11月28日 18:13」, with the
    year in front when it is not this year (「2025年11月28日 18:13」).  A stamp that is not a time is
    shown as it is."""
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    moment = moment.astimezone() if moment.tzinfo is not None else moment
    now = now or datetime.now()
    year = "" if moment.year == now.year else f"{moment.year}年"
    return f"{year}{moment.month}月{moment.day}日 {moment:%H:%M}"


def stream_call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Iterator[tuple[str, Any]]:
    """Run ``fn(*args, on_delta=…, **kwargs)`` in a thread; yield ``(text so far, None)`` as deltas
    arrive (coalesced), then ``(text, result)``.  The function's exception is re-raised here."""
    import queue

    q: queue.Queue[tuple[str, Any]] = queue.Queue()

    def run() -> None:
        try:
            q.put(("done", fn(*args, on_delta=lambda d: q.put(("delta", d)), **kwargs)))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            q.put(("error", exc))

    threading.Thread(target=run, name="drafting-stream", daemon=True).start()
    text = ""
    while True:
        kind, value = q.get()
        items = [(kind, value)]
        while kind == "delta":
            try:
                kind, value = q.get_nowait()
            except queue.Empty:
                break
            items.append((kind, value))
        for k, v in items:
            if k == "delta":
                text += v
            elif k == "error":
                raise v
            else:
                yield text, v
                return
        yield text, None
