"""The ``offline`` engine: a first draft from the writer's notes, with no model.

The composition itself lives in :mod:`drafting.compose` (bullets into well-formed 公文 sentences,
wording only from house phrases found in at least three documents of the store) and
:mod:`drafting.template` (套写 from a past section).  The engine keeps no state between calls: what a
draft borrowed is returned with it (:class:`drafting.seam.Composition`).  This module keeps the
bullet helpers and what the offline engine can honestly do to a draft in chat (``revise``): enumerate
(一是…二是…) and trim to a length.

It never copies a number from the corpus: in text taken from a past section, anything number-like
the writer did not give becomes 【待补充】; and a draft whose digits are not exactly the writer's
(plus the comparisons computed from them) falls back to the bullets themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from drafting.compose import _CONTINUES, compose, work_topic
from drafting.engines import Message
from drafting.errors import EngineError
from drafting.guard import extract_figures
from drafting.headings import heading_level
from drafting.quantities import digit_runs
from drafting.seam import Composition, DraftTask
from drafting.sentences import split_sentences
from drafting.template import bigrams

GAP = "【待补充】"
ENUM = "一二三四五六七八九十"
_BULLET_MARK = re.compile(
    r"^\s*(?:[-•·*＊]|\d+(?:[.．](?!\d)|[、)）])|[（(]\d+[)）]|[一二三四五六七八九十]+[是、]|第[一二三四五六七八九十]+[，、])\s*"
)

__all__ = ["GAP", "OfflineEngine", "bigrams", "clean_bullet", "to_enumeration", "trim", "work_topic"]


def clean_bullet(text: str) -> str:
    text = _BULLET_MARK.sub("", text.strip())
    return text.strip().rstrip("。；;，,、 ")


def enumerate_clauses(clauses: list[str]) -> str:
    if len(clauses) == 1:
        return clauses[0] + "。"
    marks = [f"{ENUM[i]}是" if i < len(ENUM) else "" for i in range(len(clauses))]
    return "".join(f"{m}{c}。" for m, c in zip(marks, clauses, strict=True))


class OfflineEngine:
    """The no-model engine: :func:`drafting.compose.compose` behind the engine seam; keeps no state."""

    name = "offline"
    rewrites = False  # no free rewriting: polish gives no whole-paragraph rewrite with it

    def describe(self) -> str:
        return "offline：不调用模型，只用您的要点和本局常用语组稿，可套写往年段落"

    def health(self) -> tuple[bool, str]:
        return True, "离线组稿可用，不需要模型服务。"

    def stream(self, messages: list[Message], *, max_tokens: int | None = None) -> Iterator[str]:
        raise EngineError(
            "offline 引擎不能按自由指令改写。请用“压缩到300字”“改成一是二是三是”这类指令，"
            "或配置 openai / local 引擎后再试。"
        )

    def compose(self, task: DraftTask) -> Composition:
        return compose(task)

    # ---- chat refinement: what can honestly be done without a model -------------------------
    def revise(self, draft: str, instruction: str) -> tuple[str, str]:
        """(new text, note to the writer).  Raises :class:`EngineError` for what it cannot do."""
        if re.search(r"一是|二是|分条|列举|分点", instruction):
            text = to_enumeration(draft)
            if text.strip() == draft.strip() or "二是" not in text:
                return text, "稿件里没有两项以上可以分开列举的并列事项，没有改成“一是……二是……”的形式。"
            return text, "已改为“一是……二是……三是……”的列举形式。"
        m = re.search(r"(\d+)\s*字", instruction)
        if m or re.search(r"压缩|精简|缩短|简短", instruction):
            limit = int(m.group(1)) if m else int(len(draft) * 0.7)
            text, note = trim(draft, limit)
            return text, note
        raise EngineError(
            f"offline 引擎做不到“{instruction[:30]}”这类改写（需要理解语气和内容）。它能做的是："
            "“改成一是二是三是”“压缩到300字”。如需改语气，请配置 openai 或 local 引擎，或直接在稿件上修改。"
        )


def _split_heading(draft: str) -> tuple[str, str]:
    """(heading, body): a numbered first line, or a short first line with no sentence end (城市更新)."""
    lines = draft.strip().split("\n", 1)
    first = lines[0].strip()
    bare = len(first) <= 30 and not re.search(r"[。；！？;!?，,]", first)
    if (heading_level(first) or bare) and len(lines) > 1:
        return first, lines[1].strip()
    return "", draft.strip()


def to_enumeration(draft: str) -> str:
    heading, body = _split_heading(draft)
    body = re.sub(r"[一二三四五六七八九十]+是", "", body)
    sentences: list[str] = []
    for s in split_sentences(body):
        # "围绕…，重点抓好以下工作：扎实推进…" — the lead-in up to the colon is not an item
        head, colon, rest = s.partition("：")
        sentences += [head + colon, rest] if colon and rest.strip() else [s]
    sentences = [s.strip().rstrip("。；;") for s in sentences if s.strip().rstrip("。；;")]
    intro = [s for s in sentences if s.endswith("：")]
    items = [s for s in sentences if not s.endswith("：")]
    # a 总述 that opens the section (城市更新工作扎实开展) carries no figure: it stays the opening sentence
    opener = ""
    if not intro and len(items) >= 2 and not digit_runs(items[0]) and not extract_figures(items[0]):
        opener, items = items[0] + "。", items[1:]
    # one sentence of several works (…120个，惠及…，新增…，开展…): its clauses are the items
    if len(items) == 1:
        clauses: list[str] = []
        for s in items:
            for c in s.split("，"):
                if clauses and (not c or _CONTINUES.match(c)):
                    clauses[-1] += "，" + c
                elif c:
                    clauses.append(c)
        if len(clauses) >= 3:
            items = clauses
    text = opener + "".join(f"{s}" for s in intro) + enumerate_clauses(items)
    return f"{heading}\n{text}" if heading else text


def trim(draft: str, limit: int) -> tuple[str, str]:
    """Drop sentences without figures, from the end, until the body fits ``limit`` characters."""
    heading, body = _split_heading(draft)
    sentences = [s for s in split_sentences(body) if s.strip()]
    keep = list(sentences)
    for s in reversed(sentences):
        if sum(map(len, keep)) <= limit:
            break
        if not extract_figures(s) and len(keep) > 1:
            keep.remove(s)
    text = "".join(keep)
    out = f"{heading}\n{text}" if heading else text
    dropped = len(sentences) - len(keep)
    if len(text) > limit:
        done = f"已删去{dropped}句不含数字的句子，正文仍有" if dropped else "没有删去任何句子：正文有"
        rest = "其余句子" if dropped else "每一句"
        why = (f"{rest}都含有您提供的数字，离线引擎不删数字" if all(extract_figures(s) for s in keep)
               else "只剩一句，离线引擎不再删减")
        return out, f"{done}{len(text)}字，超过{limit}字：{why}，请手动压缩。"
    if not dropped:
        return out, f"正文{len(text)}字（不含标题），已在{limit}字以内，没有删去任何句子。"
    return out, f"已删去{dropped}句不含数字的句子，压缩到{len(text)}字（不含标题）。"
