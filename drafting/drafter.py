"""The drafting pipeline: retrieve exemplars → prompt → engine → figure guard + 规范提法 + style.

    DraftRequest ─ search() ─ exemplars ─┬─ offline: OfflineEngine.compose()
                                         └─ openai/local: prompts/*.j2 → Engine.stream()
                 ─ text ─ check_figures() + check_terms() + citations ─ DraftResult (status ok|needs_review)

A draft whose figures or terms do not check comes back with ``status="needs_review"`` and the
reasons; it does not raise.  An engine failure raises :class:`EngineError` whose ``partial`` holds the
text streamed so far, so nothing already written is lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from drafting.corpuscheck import CorpusChecks, corpus_checks
from drafting.engines import Engine, EngineError, Message, collect, make_engine
from drafting.errors import InputError, StoreError
from drafting.guard import GuardReport, check_figures, extract_figures
from drafting.offline import OfflineEngine, bigrams, clean_bullet
from drafting.prompting import Exemplar, build_messages, defuse, render
from drafting.records import Hit
from drafting.search import Filters, search
from drafting.settings import Settings
from drafting.store import CorpusStore
from drafting.style import StyleProfile, load_or_build
from drafting.terms import TermFinding, check_terms

MAX_INPUT_CHARS = 20_000
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
OFFICE = "市住房和城乡建设局"
DEFAULT_HINTS = "多用四字短语，句子简洁。"
N_CITATIONS = 3
OnDelta = Callable[[str], None]
_PROFILES: dict[tuple[str, str], StyleProfile] = {}


@dataclass
class FigureRow:
    name: str
    value: str
    unit: str = ""
    last: str = ""

    def as_text(self) -> str:
        text = f"{self.name}{self.value}{self.unit}"
        return text + (f"，上年{self.last}{self.unit}" if self.last else "")


@dataclass
class DraftRequest:
    heading: str
    bullets: list[str]
    figures: list[FigureRow] = field(default_factory=list)
    doc_type: str = "工作总结"
    target_chars: int = 400
    form: str = "一段成文，列举处用一是、二是、三是"
    year: int | None = None  # the period drafted, for the figure ledger (default: this year)

    def provided_text(self) -> str:
        return "\n".join([*self.bullets, *(f.as_text() for f in self.figures)])

    def pairs(self) -> list[tuple[str, float, float, str]]:
        out = []
        for f in self.figures:
            try:
                out.append((f.name, float(f.value.replace(",", "")), float(f.last.replace(",", "")), f.unit))
            except ValueError:
                continue
        return out

    def validate(self) -> None:
        bullets = [b for b in self.bullets if clean_bullet(b)]
        if not self.heading.strip() and not bullets:
            raise InputError("标题和要点都是空的。请至少填写一个标题，并写几条要点（每行一条）。")
        if not bullets and not self.figures:
            raise InputError("要点是空的。请每行写一条要点（含本期数字），再生成初稿。")
        size = len(self.heading) + sum(map(len, self.bullets)) + sum(len(f.as_text()) for f in self.figures)
        if size > MAX_INPUT_CHARS:
            raise InputError(
                f"输入太长（{size}字，上限{MAX_INPUT_CHARS}字）。要点只需写事实和数字，请精简或分节起草。"
            )
        if _LONE_SURROGATE.search(self.heading + self.provided_text()):
            # text pasted with a broken emoji or character: it cannot be saved (UTF-8) or exported
            raise InputError(
                "输入里有无法识别的残缺字符（常见于复制粘贴时损坏的表情或符号）。"
                "请删去乱码处或重新输入后再试。"
            )


@dataclass
class Citation:
    doc_id: str
    title: str
    heading_path: list[str]
    text: str
    paragraphs: list[int] = field(default_factory=list)  # draft paragraphs (0-based) that echo it

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "heading_path": self.heading_path,
            "text": self.text,
            "paragraphs": self.paragraphs,
        }


@dataclass
class DraftResult:
    text: str
    engine: str
    figures: GuardReport
    terms: list[TermFinding]
    citations: list[Citation]
    notes: list[str] = field(default_factory=list)
    corpus: CorpusChecks = field(default_factory=CorpusChecks)  # figure ledger + policy citations

    @property
    def status(self) -> str:
        if self.figures.status != "ok" or any(t.severity == "必错" for t in self.terms) or self.corpus.blocking:
            return "needs_review"
        return "ok"

    def reasons(self) -> list[str]:
        out = []
        if self.figures.missing:
            out.append("漏写数字：" + "、".join(f.raw for f in self.figures.missing))
        out += [f.message for f in self.figures.unverified]
        out += [f"推算有误：{d.explanation}" for d in self.figures.derived if not d.ok]
        out += [f"提法（{t.severity}）：“{t.found}”应为“{t.suggest}”" for t in self.terms if t.severity == "必错"]
        out += self.corpus.messages()
        return out

    def to_json(self) -> dict[str, Any]:
        fig = self.figures.to_json()
        return {
            "text": self.text,
            "engine": self.engine,
            "status": self.status,
            "citations": [c.to_json() for c in self.citations],
            "figures": fig,
            "terms": [t.to_json() for t in self.terms],
            "reasons": self.reasons(),
            "notes": self.notes,
            "corpus": self.corpus.to_json(),
        }


def check(text: str, provided: str, pairs: Sequence[tuple[str, float, float, str]] = ()) -> tuple[GuardReport, list[TermFinding]]:
    """The checks every draft, refinement and suggestion goes through."""
    return check_figures(text, provided, pairs=list(pairs)), check_terms(text)


def cite(text: str, hits: Sequence[Hit], only: Sequence[Hit] | None = None, threshold: float = 0.12) -> list[Citation]:
    """Exemplars drawn on, each linked to the draft paragraphs that echo it (bigram overlap)."""
    paragraphs = [p for p in text.split("\n") if p.strip()]
    grams = [bigrams(p) for p in paragraphs]
    out = []
    for hit in only if only is not None else hits:
        hg = bigrams(hit.chunk.text)
        linked = [i for i, g in enumerate(grams) if g and len(g & hg) / len(g) >= threshold]
        snippet = hit.chunk.text if len(hit.chunk.text) <= 200 else hit.chunk.text[:200] + "…"
        out.append(Citation(hit.chunk.doc_id, hit.chunk.title, list(hit.chunk.heading_path), snippet, linked))
    return out


def get_engine(settings: Settings, name: str | None = None) -> Engine:
    return make_engine(settings, name, offline_factory=OfflineEngine)


def exemplars_for(store: CorpusStore, req: DraftRequest, k: int, exclude: Sequence[str]) -> list[Hit]:
    if store.count() == 0:
        return []
    query = "\n".join([req.heading, *req.bullets])[:2000]
    return search(store, query, k=k, filters=Filters(exclude_doc_ids=list(exclude)))


def house_style(store: CorpusStore) -> StyleProfile | None:
    """The store's style profile (None for an empty store), kept in memory per store and corpus state.

    :func:`drafting.style.load_or_build` caches it in ``<store>/style.json``; here it is also kept in
    memory, keyed by the keyword index's fingerprint (the same hash of the chunk ids), so a draft
    after the first costs a dictionary lookup.
    """
    if store.count() == 0:
        return None
    key = (str(store.settings.chroma_url or store.settings.store_path().resolve()), store.keyword().fingerprint)
    profile = _PROFILES.get(key)
    if profile is None:
        profile = _PROFILES[key] = load_or_build(store)
    return profile


def style_hints_of(profile: StyleProfile | None) -> str:
    return profile.prompt_hints() if profile is not None and profile.chunks else DEFAULT_HINTS


def shape_offline(engine: OfflineEngine, profile: StyleProfile | None) -> None:
    """Give the offline composer the house openers and enumeration habit of the profile."""
    if profile is None or not profile.chunks:
        return
    family = profile.enumerations[0][0] if profile.enumerations else ""
    engine.adopt(
        [w for w, _n in profile.openers],
        enumerates=family in ("", "一是/二是"),
        sentence_chars=profile.sentence_stat("median"),
    )


def draft(
    req: DraftRequest,
    settings: Settings,
    *,
    engine: Engine | None = None,
    store: CorpusStore | None = None,
    on_delta: OnDelta | None = None,
    exclude_doc_ids: Sequence[str] = (),
    style_hints: str = "",
    marks: Sequence[str] = (),
) -> DraftResult:
    """Draft one section; ``style_hints`` overrides the hints taken from the store's style profile."""
    req.validate()
    engine = engine or get_engine(settings)
    store = store or CorpusStore(settings)
    hits = exemplars_for(store, req, 6, exclude_doc_ids)
    profile = house_style(store)
    notes = [] if hits else ["语料库为空，没有可参考的往年材料：请先导入往年总结、汇报（drafting ingest）。"]
    provided = req.provided_text()
    if isinstance(engine, OfflineEngine):
        shape_offline(engine, profile)
        parts = []
        rows = [f.as_text() for f in req.figures]  # the figures table is the writer's too
        for part in engine.compose(req.heading, [*req.bullets, *rows], hits, provided):
            parts.append(part)
            if on_delta:
                on_delta(part)
        text = "".join(parts).strip()
        citations = cite(text, hits, only=engine.used or hits[:N_CITATIONS])
    else:
        exemplars = [
            Exemplar(i + 1, h.chunk.title, " › ".join(h.chunk.heading_path), h.chunk.text) for i, h in enumerate(hits)
        ]
        messages = build_messages(
            {"office": OFFICE, "doc_type": req.doc_type},
            "draft.j2",
            {
                "style_hints": defuse(style_hints or style_hints_of(profile)),
                "heading": req.heading,
                "bullets": [clean_bullet(b) for b in req.bullets if clean_bullet(b)],
                "figures": req.figures,
                "target_chars": req.target_chars,
                "form": req.form,
            },
            exemplars,
            context_tokens=settings.llm_context_tokens,
            reply_tokens=settings.llm_max_tokens,
        )
        text = collect(engine, messages, on_delta=on_delta).strip()
        citations = [c for c in cite(text, hits) if c.paragraphs]
    guard, terms = check(text, provided, req.pairs())
    corpus = corpus_checks(store, settings, text, provided, req.pairs(), year=req.year, marks=marks)
    return DraftResult(text, engine.name, guard, terms, citations, notes + corpus.notes, corpus)


def refine(
    previous: str,
    instruction: str,
    req: DraftRequest,
    settings: Settings,
    *,
    engine: Engine | None = None,
    store: CorpusStore | None = None,
    on_delta: OnDelta | None = None,
    marks: Sequence[str] = (),
) -> DraftResult:
    """One chat turn on an existing draft; the result is guarded like a fresh draft.

    A model gets the house-style hints of the store's profile in its system prompt; when the store
    cannot be opened the turn still runs, with the default hints and a note saying so.
    """
    if not instruction.strip():
        raise InputError("修改要求是空的。请写明怎么改，例如“压缩到300字”或“改成一是二是三是”。")
    if not previous.strip():
        raise InputError("还没有可修改的稿件。请先生成初稿，或把稿件粘贴进来。")
    engine = engine or get_engine(settings)
    notes: list[str] = []
    if isinstance(engine, OfflineEngine):
        text, note = engine.refine(previous, instruction)
        notes.append(note)
        if on_delta:
            on_delta(text)
    else:
        try:
            profile = house_style(store or CorpusStore(settings))
        except StoreError:
            profile = None
            notes.append("语料库暂时打不开，本次修改未参考本局文风档案；语料库恢复后再改一次即可。")
        hints = style_hints_of(profile)
        messages = [
            Message("system", render("system.j2", office=OFFICE, doc_type=req.doc_type)),
            Message("user", render("refine.j2", draft=defuse(previous), instruction=instruction, figures=req.figures,
                                   style_hints=defuse(hints))),
        ]
        text = collect(engine, messages, on_delta=on_delta).strip()
    provided = "\n".join([req.provided_text(), _figures_of(previous)])
    guard, terms = check(text, provided, req.pairs())
    corpus = corpus_checks(store, settings, text, provided, req.pairs(), year=req.year, marks=marks)
    return DraftResult(text, engine.name, guard, terms, [], notes + corpus.notes, corpus)


def _figures_of(text: str) -> str:
    """Figures already in the previous draft are allowed in a refinement (the writer accepted them)."""
    return "\n".join(f.raw for f in extract_figures(text))


__all__ = [
    "Citation",
    "DraftRequest",
    "DraftResult",
    "EngineError",
    "FigureRow",
    "check",
    "draft",
    "refine",
]
