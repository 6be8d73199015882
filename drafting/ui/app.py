"""The writers' web app: five tabs (起草 / 文稿 / 润色 / 语料库 / 历史) over the plain ``drafting`` functions.

``build_app(settings)`` returns the Blocks; ``launch(settings)`` serves it on ``settings.host``
(127.0.0.1 by default), with accounts from ``settings.users_file`` when given, and refuses to bind
beyond loopback without them.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import gradio as gr
from fastapi import HTTPException
from starlette.middleware import Middleware

from drafting.errors import ConfigError, DraftingError
from drafting.settings import Settings
from drafting.ui.common import AppContext, esc
from drafting.ui.corpus_tab import CorpusTab
from drafting.ui.document_tab import DocumentTab
from drafting.ui.draft_tab import DraftTab
from drafting.ui.history_tab import HistoryTab
from drafting.ui.http_guard import RequestGuard
from drafting.ui.page import HEAD, LOGIN_CSS, gradio_i18n
from drafting.ui.polish_tab import PolishTab
from drafting.ui.theme import CSS, theme
from drafting.users import (
    PASSWORD_TOO_LONG,
    ClientAddress,
    LoginLimiter,
    User,
    client_ip,
    locked_message,
    password_too_long,
    require_accounts,
    verify,
)

TITLE = "拟稿助手"
# Queue: at most CONCURRENCY runs of *each* event listener at once (Gradio gives every listener its
# own concurrency group, so 4 drafts + 4 refinements + 4 polishes can run together); a streaming
# model call holds its slot until the stream ends.  Chosen on purpose from bench/load.py (20 writers,
# 2 cores, docs/reliability.md "Load"): 1 queues every draft behind the others (draft p50 9-13 s);
# 8 adds only GIL/CPU contention to the CPU-bound offline engine (all ops slower, throughput down);
# 4 gave the best throughput and p95 offline, and the same throughput as 8-16 on a fast model stub.
# max_size: beyond 64 waiting events a new request is refused at once instead of waiting minutes.
CONCURRENCY = 4
# Gradio refuses bigger uploads itself (with an English message), so its limit sits well above
# max_file_mb: a file between the two reaches ingest, which explains the limit in Chinese.
UPLOAD_LIMIT_MB = 200.0
UPLOAD_LIMIT_FACTOR = 10


def build_app(settings: Settings, ctx: AppContext | None = None) -> gr.Blocks:
    ctx = ctx or AppContext.create(settings)
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=cache_cleanup(settings)) as demo:
        header = gr.HTML(_header(ctx, None), elem_id="app-header")
        draft = DraftTab(ctx)
        polish = PolishTab(ctx, draft.engine_choices(), draft.default_engine())
        corpus = CorpusTab(ctx)
        history = HistoryTab(ctx)
        document = DocumentTab(ctx)
        with gr.Tabs(selected="draft", elem_id="main-tabs") as tabs:
            with gr.Tab("起草", id="draft", elem_id="tab-draft"):
                draft.build()
            with gr.Tab("文稿", id="document", elem_id="tab-document") as document_tab:
                document.build()
            with gr.Tab("润色", id="polish", elem_id="tab-polish"):
                polish.build()
            with gr.Tab("语料库", id="corpus", elem_id="tab-corpus"):
                corpus.build()
            with gr.Tab("历史与导出", id="history", elem_id="tab-history") as history_tab:
                history.build()
        draft.wire(demo)
        polish.wire(demo)
        corpus.wire(demo)
        history.wire(demo, history_tab, draft, tabs)
        document.wire(demo, document_tab, draft, tabs)

        def who(request: gr.Request) -> str:
            return _header(ctx, request)

        demo.load(who, None, header, show_progress="hidden")
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=64)
    demo.drafting_ctx = ctx
    return demo


def cache_cleanup(settings: Settings) -> tuple[int, int]:
    """Gradio's ``delete_cache`` (frequency, age): temp copies of uploads and downloads older than
    ``upload_keep_hours`` are deleted every 10 minutes (or more often, for short ages), and all at
    shutdown."""
    age = max(60, int(settings.upload_keep_hours * 3600))
    return min(600, age), age


def _header(ctx: AppContext, request: gr.Request | None) -> str:
    try:
        user = ctx.user(request)
    except DraftingError:  # not logged in: the page shows the login form instead
        user = ""
    role = "（管理员）" if user and ctx.users is not None and ctx.is_admin(user) else ""
    who = f'<span class="who">当前用户：{esc(user)}{role}</span>' if user else ""
    return (
        f'<div class="app-header"><h1>{TITLE}</h1><span class="muted">住建系统公文起草 · 数字核对 · '
        f"规范提法 · Word 导出</span>{who}</div>"
    )


def launch_kwargs(settings: Settings, ctx: AppContext) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch`` (shared by :func:`launch` and the browser tests)."""
    kwargs: dict[str, Any] = {
        "server_name": settings.host,
        "server_port": settings.port,
        "theme": theme(),
        "css": CSS,
        "i18n": gradio_i18n(),  # Gradio's own words in Chinese under any browser language
        "head": HEAD,  # Chinese for Gradio's few untranslatable words; one-click editing of the 数字表
        "footer_links": [],
        "run_history": False,
        "ssr_mode": False,
        "show_error": False,
        "max_file_size": int(max(UPLOAD_LIMIT_MB, settings.max_file_mb * UPLOAD_LIMIT_FACTOR) * 1024 * 1024),
        "allowed_paths": [str(settings.data_path().resolve() / "exports")],
        # session hash ↔ login, upload quota, hidden-file uploads (drafting/ui/http_guard.py)
        "app_kwargs": {"middleware": [Middleware(RequestGuard, ctx=ctx)]},
    }
    if ctx.users is not None:
        kwargs["auth"] = login_check(ctx.users, LoginLimiter())
        kwargs["auth_message"] = (
            "请用管理员为您建立的账号登录拟稿助手。忘记密码请联系管理员重设。"
            "连续输错5次密码，该账号将暂停登录1分钟（再错则加倍）。"
        ) + LOGIN_CSS  # the login form's own words in Chinese
        # the limiter needs the client address
        kwargs["app_kwargs"]["middleware"].insert(0, Middleware(ClientAddress))
    return kwargs


def login_check(users: dict[str, User], limiter: LoginLimiter) -> Callable[[str, str], Awaitable[bool]]:
    """Gradio's ``auth`` callable: bcrypt in a worker thread (the event loop keeps serving), rate-limited
    per name and per client address.  A locked name or address is refused before any password check,
    with HTTP 400 (what Gradio's login form reports as wrong credentials) and a Chinese ``detail``."""

    async def auth(name: str, password: str) -> bool:
        ip = client_ip()
        wait = limiter.acquire(name, ip)
        if wait:
            raise HTTPException(status_code=400, detail=locked_message(wait),
                                headers={"Retry-After": str(math.ceil(wait))})
        ok = False
        try:  # every exit settles the attempt acquire() counted, or the address stays "busy" for 15 min
            if password_too_long(password):  # the same answer for a known and an unknown name
                raise HTTPException(status_code=400, detail=PASSWORD_TOO_LONG)
            ok = await asyncio.to_thread(verify, users, name, password)
        finally:
            (limiter.succeeded if ok else limiter.failed)(name, ip)
        return ok

    return auth


def launch(settings: Settings, **overrides: Any) -> gr.Blocks:
    """Serve the app; refuses a non-loopback host without a users file (Chinese ConfigError)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    require_accounts(settings.host, settings.users_file)
    # uvicorn (started inside Gradio's launch) takes the client address from X-Forwarded-For when the
    # peer is in FORWARDED_ALLOW_IPS, by default loopback: anyone on the machine could then pick the
    # address the login limit counts.  Only the proxies named in DRAFTING_TRUSTED_PROXIES are believed.
    os.environ["FORWARDED_ALLOW_IPS"] = ",".join(settings.trusted_proxy_list())
    ctx = AppContext.create(settings)
    threading.Thread(target=ctx.warm_up, name="drafting-warm-up", daemon=True).start()
    demo = build_app(settings, ctx)
    kwargs = {**launch_kwargs(settings, ctx), "quiet": True, "prevent_thread_lock": True, **overrides}
    try:
        demo.launch(**kwargs)
    except OSError as exc:
        raise ConfigError(
            f"端口 {settings.port} 已被占用或无法监听。"
            "请关闭占用该端口的程序，或用 --port（DRAFTING_PORT）换一个端口。",
            detail=str(exc),
        ) from exc
    accounts = "已启用账号登录" if ctx.users is not None else "单用户模式（仅本机）"
    started = f"拟稿助手已启动：http://{settings.host}:{settings.port}/ （{accounts}；按 Ctrl+C 停止）"
    if overrides.get("prevent_thread_lock"):
        print(started, flush=True)
    else:
        serve_until_interrupted(demo, started)
    return demo


def serve_until_interrupted(demo: gr.Blocks, started: str) -> None:
    """Print ``started``, then Gradio's ``block_thread``, saying in Chinese that the app is stopping
    (Gradio's own says it in English).  A Ctrl+C from the moment the start line is out is caught here."""
    try:
        print(started, flush=True)
        while demo.is_running:
            time.sleep(0.1)
    except (KeyboardInterrupt, OSError):
        print("收到停止指令（Ctrl+C），正在关闭拟稿助手…", flush=True)
        if demo.server:
            demo.server.close()
        print("拟稿助手已关闭。", flush=True)
