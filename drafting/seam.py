"""The one engine seam: every engine takes a :class:`DraftTask` and returns a :class:`Composition`.

An engine with a ``compose(task, on_delta)`` method (the offline engine) composes itself; any other
engine (openai, local, a test double) only streams, and :func:`compose_with` builds its prompt from
the same task.  The drafter never asks which engine it has, and no engine keeps anything between
calls: what a draft borrowed comes back in the composition it returned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from drafting.records import Hit

OnDelta = Callable[[str], None]
SOURCES = ("bullet", "computed", "phrase", "template", "connective", "gap", "model")
SOURCE_ZH = {
    "bullet": "要点原文",
    "computed": "推算（由您的数字算出）",
    "phrase": "本局常用语（≥3篇材料）",
    "template": "套写的往年段落",
    "connective": "连接词和标点",
    "gap": "【待补充】",
    "model": "模型生成",
}


@dataclass
class PastSection:
    """A past section chosen for 套写: its text and where it came from."""

    doc_id: str
    title: str
    heading_path: list[str]
    text: str
    hit: Hit | None = None


@dataclass
class DraftTask:
    heading: str
    bullets: list[str]
    rows: list[str]  # the figures table, one text per row (the writer's too)
    provided: str
    pairs: list[tuple[str, float, float, str]]
    doc_type: str
    target_chars: int
    form: str
    exemplars: list[Hit]
    past: PastSection | None = None
    phrases: Any = None  # drafting.phrases.HousePhrases
    exclude_doc_ids: Sequence[str] = ()
    sentence_chars: int = 57
    enumerates: bool = True
    style_hints: str = ""
    settings: Any = None
    use_retrieval: bool = True
    figure_rows: list[Any] = field(default_factory=list)  # FigureRow, for a model's prompt


@dataclass
class Piece:
    text: str
    source: str  # one of SOURCES


@dataclass
class Borrowed:
    """Text or structure taken from one passage, and the draft paragraphs (0-based) that use it."""

    hit: Hit | None
    doc_id: str
    title: str
    heading_path: list[str]
    text: str
    paragraphs: list[int]


@dataclass
class Composition:
    text: str
    pieces: list[Piece] = field(default_factory=list)  # the body, piece by piece (empty for a model)
    borrowed: list[Borrowed] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    inherited: list[str] = field(default_factory=list)  # 沿用往年表述，请核实

    def provenance(self) -> dict[str, int]:
        """Characters of the body by where they came from (whitespace not counted)."""
        out: dict[str, int] = {}
        for p in self.pieces:
            n = len("".join(p.text.split()))
            if n:
                out[p.source] = out.get(p.source, 0) + n
        return out


def compose_with(engine: Any, task: DraftTask, on_delta: OnDelta | None = None) -> Composition:
    """The seam: the engine's own ``compose`` when it has one, else a prompt streamed through it."""
    own = getattr(engine, "compose", None)
    if callable(own):
        comp: Composition = own(task)
        if on_delta:
            on_delta(comp.text)
        return comp
    return _model_compose(engine, task, on_delta)


def _model_compose(engine: Any, task: DraftTask, on_delta: OnDelta | None) -> Composition:
    from drafting.engines import collect
    from drafting.prompting import Exemplar, build_messages, defuse

    exemplars = [Exemplar(i + 1, h.chunk.title, " › ".join(h.chunk.heading_path), h.chunk.text)
                 for i, h in enumerate(task.exemplars)]
    if task.past is not None:
        exemplars.insert(0, Exemplar(0, task.past.title, " › ".join(task.past.heading_path), task.past.text))
    from drafting.offline import clean_bullet

    messages = build_messages(
        {"office": task.settings.office, "doc_type": task.doc_type},
        "draft.j2",
        {
            "style_hints": defuse(task.style_hints),
            "heading": task.heading,
            "bullets": [clean_bullet(b) for b in task.bullets if clean_bullet(b)],
            "figures": task.figure_rows,
            "target_chars": task.target_chars,
            "form": task.form,
        },
        exemplars,
        context_tokens=task.settings.llm_context_tokens,
        reply_tokens=task.settings.llm_max_tokens,
    )
    text = collect(engine, messages, on_delta=on_delta).strip()
    return Composition(text, [Piece(text, "model")])
