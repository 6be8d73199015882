"""Shared fixtures.  The whole test session runs with the network blocked except loopback."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

# The property tests run the same examples on every run (``derandomize``), so a clean clone's
# ``make test`` cannot fail on an input no one has seen.  To search new inputs, run
# ``HYPOTHESIS_PROFILE=explore make test`` (random examples; a failure is a real bug to fix).
hypothesis_settings.register_profile("default", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["tests.chromium_note"]  # the end-of-run note when the browser tests were skipped


def _find_shared() -> Path:
    """The shared corpus and eval cases sit beside the checkout (``../shared``); a clone elsewhere
    finds them through ``DRAFTING_SHARED`` or the workspace path."""
    for cand in (os.environ.get("DRAFTING_SHARED"), ROOT.parent / "shared", Path("/work/shared")):
        if cand and (Path(cand) / "corpus").is_dir():
            return Path(cand)
    return ROOT.parent / "shared"


SHARED = _find_shared()
# the bench scripts some tests import (and every child process) find the shared folder the same way
os.environ.setdefault("DRAFTING_SHARED", str(SHARED))
SEEDS = ROOT / "corpus"
PUBLIC = SHARED / "corpus" / "public"

BLOCKED: list[str] = []
_LOOPBACK = {"127.0.0.1", "::1", "localhost", "0.0.0.0"}
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        host = str(address[0])
        if host not in _LOOPBACK and not host.startswith("127."):
            BLOCKED.append(host)
            raise ConnectionRefusedError(f"network blocked in tests: {host}")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(self, address)
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address)
    return _real_connect_ex(self, address)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if BLOCKED:
        print(f"\n非回环网络连接被拦截（不应发生）：{sorted(set(BLOCKED))}")
        session.exitstatus = 1


@pytest.fixture
def settings(tmp_path: Path) -> Any:
    from drafting.settings import get_settings

    return get_settings(store=tmp_path / "store")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (for servers the tests start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ingested_seeds(factory: pytest.TempPathFactory, name: str) -> Any:
    """Settings whose store holds the five seed reports, ingested for real into a fresh folder."""
    import shutil

    from drafting.ingest import ingest
    from drafting.settings import get_settings

    root = factory.mktemp(name)
    shutil.copytree(SEEDS, root / "corpus")
    settings = get_settings(store=root / "store")
    ingest([root / "corpus"], settings)
    return settings


@pytest.fixture
def stub() -> Any:
    """A real OpenAI-compatible HTTP server on 127.0.0.1, scripted per test (tests/openai_stub.py)."""
    from tests.openai_stub import OpenAIStub

    server = OpenAIStub().start()
    yield server
    server.stop()
