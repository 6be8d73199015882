"""Prompts live in ``prompts/*.j2`` and are rendered with ``StrictUndefined``.

Exemplars are fenced as reference material (``<<<参考材料n开始…>>>``) and stripped of anything that
looks like a fence, so a past report cannot close the fence and speak as an instruction.  Whatever
is sent is fitted to the model's context by tiktoken count, trimming exemplars at sentence ends.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from drafting.engines import Message
from drafting.sentences import split_sentences
from drafting.tokens import count_tokens

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
_FENCE = re.compile(r"<{2,}|>{2,}")


@functools.lru_cache(maxsize=4)
def environment(folder: str = str(PROMPTS_DIR)) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )


def render(name: str, **values: Any) -> str:
    return environment().get_template(name).render(**values).strip()


def template_names() -> list[str]:
    return sorted(p.name for p in PROMPTS_DIR.glob("*.j2"))


@dataclass
class Exemplar:
    n: int
    title: str
    heading_path: str
    text: str


def defuse(text: str) -> str:
    """Remove fence-like markers from reference text."""
    return _FENCE.sub("", text)


def trim_to_tokens(text: str, budget: int) -> str:
    """Whole sentences from the start of ``text`` that fit ``budget`` tokens (never mid-sentence)."""
    out: list[str] = []
    used = 0
    for sentence in split_sentences(text):
        n = count_tokens(sentence)
        if used + n > budget:
            break
        out.append(sentence)
        used += n
    return "".join(out)


def fit_exemplars(exemplars: list[Exemplar], budget: int) -> list[Exemplar]:
    """Share ``budget`` tokens among exemplars in rank order, trimming each at sentence ends."""
    kept: list[Exemplar] = []
    remaining = budget
    for e in exemplars:
        fence = f"<<<参考材料{e.n}开始：{e.title}｜{e.heading_path}>>>\n<<<参考材料{e.n}结束>>>"
        overhead = count_tokens(fence) + 4
        if remaining - overhead <= 20:
            break
        text = trim_to_tokens(defuse(e.text), remaining - overhead)
        if not text:
            continue
        kept.append(Exemplar(len(kept) + 1, defuse(e.title), defuse(e.heading_path), text))
        remaining -= overhead + count_tokens(text)
    return kept


def build_messages(
    system_values: dict[str, Any],
    template: str,
    values: dict[str, Any],
    exemplars: list[Exemplar],
    *,
    context_tokens: int,
    reply_tokens: int,
) -> list[Message]:
    """System rules first, then the user prompt with as many exemplars as the context allows."""
    system = render("system.j2", **system_values)
    bare = render(template, **values, exemplars=[])
    budget = context_tokens - reply_tokens - count_tokens(system) - count_tokens(bare) - 32
    fitted = fit_exemplars(exemplars, max(0, budget))
    return [Message("system", system), Message("user", render(template, **values, exemplars=fitted))]
