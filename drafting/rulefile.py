"""One reader for the JSONL rule files a writer's office may edit (规范提法词库 ``terms.jsonl``,
口语改写规则 ``colloquial.jsonl``): the file must exist, be UTF-8 and hold at least one rule; blank
lines are skipped and every other line is handed to the caller's parser with its line number, so a bad
rule is reported by file and line.  A file is read once per change (cached on its mtime and size)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from drafting.errors import ConfigError

__all__ = ["load_rule_file"]

T = TypeVar("T")

# parse(path, numbered lines) -> rules; it raises ConfigError naming the line of a bad rule
Parser = Callable[[Path, list[tuple[int, str]]], list[Any]]


@lru_cache(maxsize=16)
def _load(path: Path, mtime_ns: int, size: int, what: str, parse: Parser) -> tuple[Any, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} {path.name} 不是 UTF-8 编码。", detail=str(path)) from exc
    except OSError as exc:
        raise ConfigError(f"{what} {path.name} 读不出来。", detail=str(exc)) from exc
    rules = tuple(parse(path, [(n, raw) for n, raw in enumerate(text.splitlines(), 1) if raw.strip()]))
    if not rules:
        raise ConfigError(f"{what} {path.name} 没有任何规则。", detail=str(path))
    return rules


def load_rule_file(path: Path, what: str, parse: Callable[[Path, list[tuple[int, str]]], list[T]]) -> list[T]:
    """The rules of ``path`` parsed by ``parse``; ``what`` names the file to the writer (口语改写规则)."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise ConfigError(f"找不到{what} {path}。", detail=str(exc)) from exc
    return list(_load(path.resolve(), stat.st_mtime_ns, stat.st_size, what, parse))
