"""The one reader of the office-editable rule files: both the 规范提法词库 and the 口语改写规则 are refused
the same clear way when missing, not UTF-8 or empty, and are re-read when the file changes."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from drafting.colloquial import load_rules
from drafting.errors import ConfigError
from drafting.terms import load_lexicon


def _term(pattern: str, suggest: str) -> dict[str, Any]:
    return {"pattern": pattern, "regex": False, "suggest": suggest, "severity": "必错",
            "reason": "提法不规范",
            "source": "测试", "example": f"认真落实{pattern}。"}


# two valid rules per file: the first alone, then both
COLLOQUIAL = [{"pattern": "老百姓", "suggestion": "群众", "reason": "口语", "example": "老百姓满意"},
              {"pattern": "搞好", "suggestion": "做好", "reason": "口语", "example": "搞好服务"}]
TERMS = [_term("十三五规划", "“十三五”规划"), _term("十四五规划", "“十四五”规划")]
LOADERS: list[tuple[Callable[[Path], list[Any]], str, list[dict[str, Any]]]] = [
    (load_rules, "口语改写规则", COLLOQUIAL),
    (load_lexicon, "规范提法词库", TERMS),
]


@pytest.mark.parametrize(("load", "what", "rules"), LOADERS)
def test_missing_non_utf8_and_empty_files_are_refused_in_chinese(
        tmp_path: Path, load: Callable[[Path], list[Any]], what: str, rules: list[dict[str, Any]]) -> None:
    path = tmp_path / "rules.jsonl"
    with pytest.raises(ConfigError, match=f"找不到{what}"):
        load(path)
    path.write_bytes(json.dumps(rules[0], ensure_ascii=False).encode("gbk") + b"\n")
    with pytest.raises(ConfigError, match=f"{what} rules.jsonl 不是 UTF-8 编码"):
        load(path)
    path.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"{what} rules.jsonl 没有任何规则"):
        load(path)


@pytest.mark.parametrize(("load", "what", "rules"), LOADERS)
def test_rules_are_read_again_when_the_file_changes(
        tmp_path: Path, load: Callable[[Path], list[Any]], what: str, rules: list[dict[str, Any]]) -> None:
    path = tmp_path / "rules.jsonl"
    path.write_text("\n" + json.dumps(rules[0], ensure_ascii=False) + "\n", encoding="utf-8")
    first = load(path)
    assert len(first) == 1 and load(path) == first
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rules) + "\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a different mtime even within the clock's resolution
    assert len(load(path)) == 2
