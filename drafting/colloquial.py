"""Colloquial → 公文 wording: the rule set in ``drafting/data/colloquial.jsonl`` and its matcher.

One rule a line: ``{"pattern": regex, "suggestion": replacement, "reason": Chinese, "example": a
sentence it flags}``.  ``suggestion`` is a :meth:`re.Match.expand` template (``\\1`` keeps a captured
word: ``提高了不少`` → ``明显提高``); it may be empty (a filler particle is deleted).  A vague
quantity never becomes an invented figure: ``比去年多了不少`` → ``较上年增加【待补充】``.

Rules are tried in file order and the first to claim a span keeps it (specific rules come before
general ones: ``跑了好几趟`` before ``好几``).  Lookarounds keep set phrases that are formal
(``马上就办``, ``之所以``, ``撸起袖子加油干``, ``务实管用``, ``坚挺``).  The cases in
tests/data/colloquial_cases.jsonl say what each rule must flag, and the corpus's own sentences say
what it must not (docs/benchmarks.md).

Nothing runs at import time; the file is read once per change (cached on its mtime and size).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from drafting.errors import ConfigError
from drafting.rulefile import load_rule_file

__all__ = ["DEFAULT_RULES", "ColloquialFinding", "ColloquialRule", "colloquial_findings", "load_rules"]

DEFAULT_RULES = Path(__file__).resolve().parent / "data" / "colloquial.jsonl"


@dataclass(frozen=True)
class ColloquialRule:
    pattern: str
    suggestion: str
    reason: str
    example: str
    line: int
    compiled: re.Pattern[str]


@dataclass(frozen=True)
class ColloquialFinding:
    start: int
    end: int
    found: str
    suggest: str
    reason: str


def _bad(path: Path, line: int, what: str) -> ConfigError:
    return ConfigError(f"口语改写规则 {path.name} 第{line}行有误：{what}。请改正后重试。", detail=str(path))


def _parse(path: Path, line: int, raw: str) -> ColloquialRule:
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _bad(path, line, "不是一个 JSON 对象") from exc
    if not isinstance(obj, dict):
        raise _bad(path, line, "不是一个 JSON 对象")
    for key in ("pattern", "reason", "example"):
        if not isinstance(obj.get(key), str) or not obj[key]:
            raise _bad(path, line, f"缺少 {key}（非空字符串）")
    if not isinstance(obj.get("suggestion"), str):
        raise _bad(path, line, "缺少 suggestion（字符串，可为空）")
    try:
        compiled = re.compile(obj["pattern"], re.MULTILINE)
    except re.error as exc:
        raise _bad(path, line, f"正则表达式无法编译（{exc}）") from exc
    if compiled.search("") is not None:
        raise _bad(path, line, "正则表达式能匹配空字符串")
    m = compiled.search(obj["example"])
    if m is None:
        raise _bad(path, line, f"示例“{obj['example']}”没有触发这条规则")
    try:
        m.expand(obj["suggestion"])
    except (re.error, IndexError) as exc:
        raise _bad(path, line, f"suggestion 引用了不存在的分组（{exc}）") from exc
    return ColloquialRule(obj["pattern"], obj["suggestion"], obj["reason"], obj["example"], line, compiled)


def _parse_all(path: Path, lines: list[tuple[int, str]]) -> list[ColloquialRule]:
    return [_parse(path, n, raw) for n, raw in lines]


def load_rules(path: Path | None = None) -> list[ColloquialRule]:
    """The rules, validated (raises :class:`ConfigError` naming the file and line of a bad one)."""
    return load_rule_file(Path(path) if path is not None else DEFAULT_RULES, "口语改写规则", _parse_all)


def colloquial_findings(
    text: str, taken: list[tuple[int, int]] | None = None, rules: list[ColloquialRule] | None = None
) -> list[ColloquialFinding]:
    """Colloquial wording in ``text``, sorted by position, never overlapping each other or ``taken``."""
    claimed = list(taken or [])
    out: list[ColloquialFinding] = []
    for rule in rules if rules is not None else load_rules():
        for m in rule.compiled.finditer(text):
            a, b = m.span()
            if a == b or any(x < b and a < y for x, y in claimed):
                continue
            claimed.append((a, b))
            out.append(ColloquialFinding(a, b, m.group(), m.expand(rule.suggestion), rule.reason))
    return sorted(out, key=lambda f: f.start)
