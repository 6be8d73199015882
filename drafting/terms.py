"""规范提法 checker: political formulations, 公文 wording and common 错别字.

The rules live in ``drafting/data/terms.jsonl`` (format: ``docs/terms.md``).  Each rule is a literal
string or a regular expression, the standard form to suggest, a severity and the reason and source
a writer sees.  :func:`check_terms` runs every rule over a text and returns non-overlapping
findings with their character positions, so a UI can underline them and a CLI can print them.

Severities, strongest first:

- ``必错``: certainly wrong, must be fixed;
- ``疑似``: probably wrong, the writer should check;
- ``提示``: style advice.

The checker is deterministic and needs no model, so it runs on every draft and every rewrite.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drafting.errors import ConfigError
from drafting.rulefile import load_rule_file

SEVERITIES: tuple[str, ...] = ("必错", "疑似", "提示")
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
DEFAULT_LEXICON = Path(__file__).resolve().parent / "data" / "terms.jsonl"

_REQUIRED: dict[str, type] = {
    "pattern": str,
    "regex": bool,
    "suggest": str,
    "severity": str,
    "reason": str,
    "source": str,
}
_OPTIONAL = {"context_not", "example"}


@dataclass(frozen=True)
class TermRule:
    """One lexicon entry, validated and compiled."""

    pattern: str
    regex: bool
    suggest: str
    severity: str
    reason: str
    source: str
    context_not: tuple[str, ...] = ()
    example: str | None = None
    line: int = 0
    compiled: re.Pattern[str] = field(default=re.compile(r"(?!)"), repr=False, compare=False)

    def matches(self, text: str) -> list[tuple[int, int]]:
        """Spans in ``text`` where this rule fires, after the ``context_not`` exceptions."""
        spans = []
        for m in self.compiled.finditer(text):
            start, end = m.span()
            if start == end or _excepted(text, start, end, self.context_not):
                continue
            spans.append((start, end))
        return spans


@dataclass
class TermFinding:
    found: str
    suggest: str
    severity: str
    reason: str
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "suggest": self.suggest,
            "severity": self.severity,
            "reason": self.reason,
            "start": self.start,
            "end": self.end,
        }


def _excepted(text: str, start: int, end: int, context_not: tuple[str, ...]) -> bool:
    """True if an exception string sits right before or after the match, or covers it."""
    found = text[start:end]
    for ctx in context_not:
        if text.endswith(ctx, 0, start) or text.startswith(ctx, end):
            return True
        # The match lies inside an occurrence of ctx (e.g. the correct full form).
        offset = ctx.find(found)
        while offset != -1:
            begin = start - offset
            if begin >= 0 and text.startswith(ctx, begin):
                return True
            offset = ctx.find(found, offset + 1)
    return False


def _bad(path: Path, line: int, problem: str) -> ConfigError:
    return ConfigError(
        f"规范提法词库 {path.name} 第{line}行有误：{problem}。请按 docs/terms.md 的格式修改该行。",
        detail=str(path),
    )


def _parse_rule(path: Path, line: int, raw: str) -> TermRule:  # noqa: C901  one check per field, each its own message
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _bad(path, line, f"不是合法的 JSON（{exc.msg}，第{exc.colno}列）") from exc
    if not isinstance(obj, dict):
        raise _bad(path, line, "每行应是一个 JSON 对象")
    unknown = sorted(set(obj) - set(_REQUIRED) - _OPTIONAL)
    if unknown:
        raise _bad(path, line, f"未知字段 {', '.join(unknown)}")
    for key, kind in _REQUIRED.items():
        if key not in obj:
            raise _bad(path, line, f"缺少字段 {key}")
        if not isinstance(obj[key], kind):
            raise _bad(path, line, f"字段 {key} 的类型应为 {'布尔值' if kind is bool else '字符串'}")
        if kind is str and not obj[key].strip():
            raise _bad(path, line, f"字段 {key} 不能为空")
    if obj["severity"] not in _RANK:
        raise _bad(path, line, f"severity 应为 {'、'.join(SEVERITIES)} 之一，而不是“{obj['severity']}”")
    context_not = obj.get("context_not", [])
    if not isinstance(context_not, list) or not all(isinstance(c, str) and c for c in context_not):
        raise _bad(path, line, "context_not 应是非空字符串的列表")
    example = obj.get("example")
    if example is not None and (not isinstance(example, str) or not example):
        raise _bad(path, line, "example 应是非空字符串")

    pattern = obj["pattern"]
    if obj["regex"]:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise _bad(path, line, f"正则表达式无法编译（{exc}）") from exc
        if compiled.search("") is not None:
            raise _bad(path, line, "正则表达式能匹配空字符串")
    else:
        compiled = re.compile(re.escape(pattern))
    rule = TermRule(
        pattern=pattern,
        regex=obj["regex"],
        suggest=obj["suggest"],
        severity=obj["severity"],
        reason=obj["reason"],
        source=obj["source"],
        context_not=tuple(context_not),
        example=example,
        line=line,
        compiled=compiled,
    )
    if rule.matches(rule.suggest):
        raise _bad(path, line, f"建议写法“{rule.suggest}”本身会触发这条规则")
    if example is not None and not rule.matches(example):
        raise _bad(path, line, f"示例“{example}”没有触发这条规则")
    return rule


def _parse_all(path: Path, lines: list[tuple[int, str]]) -> list[TermRule]:
    rules: list[TermRule] = []
    seen: dict[tuple[str, bool], int] = {}
    for line, raw in lines:
        rule = _parse_rule(path, line, raw)
        key = (rule.pattern, rule.regex)
        if key in seen:
            raise _bad(path, line, f"与第{seen[key]}行的 pattern 重复")
        seen[key] = line
        rules.append(rule)
    return rules


def load_lexicon(path: Path | None = None) -> list[TermRule]:
    """Read and validate the lexicon; cached until the file changes.

    Raises :class:`ConfigError` naming the file and line of the first bad entry.
    """
    return load_rule_file(Path(path) if path is not None else DEFAULT_LEXICON, "规范提法词库", _parse_all)


def check_terms(text: str, lexicon: list[TermRule] | None = None) -> list[TermFinding]:
    """Findings in ``text``, sorted by position, never overlapping.

    Where matches overlap, the stronger severity wins (必错 > 疑似 > 提示), then the longer
    match, then the earlier one.
    """
    rules = load_lexicon() if lexicon is None else lexicon
    candidates: list[tuple[int, int, int, int, TermRule]] = []
    for order, rule in enumerate(rules):
        for start, end in rule.matches(text):
            candidates.append((_RANK[rule.severity], start - end, start, order, rule))
    candidates.sort(key=lambda c: c[:4])

    starts: list[int] = []
    ends: list[int] = []
    chosen: list[TermFinding] = []
    for _rank, _neg_len, start, _order, rule in candidates:
        end = start + (-_neg_len)
        i = bisect.bisect_left(starts, start)
        if i > 0 and ends[i - 1] > start:
            continue
        if i < len(starts) and starts[i] < end:
            continue
        starts.insert(i, start)
        ends.insert(i, end)
        chosen.append(
            TermFinding(
                found=text[start:end],
                suggest=rule.suggest,
                severity=rule.severity,
                reason=rule.reason,
                start=start,
                end=end,
            )
        )
    chosen.sort(key=lambda f: (f.start, f.end))
    return chosen
