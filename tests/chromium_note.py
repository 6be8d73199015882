"""A pytest plugin (loaded by tests/conftest.py): say at the end of the run when the browser tests
were skipped because Debian's chromium is missing, so `make test` never passes them silently."""

from __future__ import annotations

from typing import Any

import pytest

NOTE = (
    "注意：没有安装 Debian 的 chromium，{n} 处浏览器测试被跳过，网页界面这次没有在真实浏览器里测过。"
    "请运行 `bash .ci/run`（自动安装 chromium 和 fonts-noto-cjk 后再 make test），"
    "或先 `apt-get install chromium fonts-noto-cjk`。"
)


def _reason(report: Any) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr or "")


def chromium_skips(terminalreporter: Any) -> int:
    """How many skipped tests or modules gave a missing chromium as the reason."""
    return sum("chromium" in _reason(r).lower() for r in terminalreporter.stats.get("skipped", []))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    n = chromium_skips(terminalreporter)
    if n:
        terminalreporter.write_sep("=", "浏览器测试未运行", yellow=True, bold=True)
        terminalreporter.write_line(NOTE.format(n=n), yellow=True, bold=True)
