"""The drafting pipeline: retrieve exemplars → prompt → engine → figure guard + 规范提法 + style.

    DraftRequest ─ search() ─ exemplars (+ 套写 past section) ─ DraftTask ─ seam.compose_with(engine, task)
                 ─ Composition ─ check_figures() + check_terms() ─ DraftResult (status ok|needs_review,
                   citations: what was borrowed, linked to paragraphs; references: 可参考的往年段落)

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
from drafting.guard import GuardReport, Source, check_figures
from drafting.heap import release_memory
from drafting.offline import OfflineEngine, bigrams, clean_bullet
from drafting.phrases import house_phrases
from drafting.prompting import defuse, render
from drafting.provenance import HEADING, bullet_label, row_label, settle
from drafting.records import Hit
from drafting.seam import DraftTask, PastSection, compose_with
from drafting.search import Filters, search
from drafting.settings import Settings
from drafting.store import CorpusStore
from drafting.style_cache import load_or_build
from drafting.style_profile import StyleProfile
from drafting.terms import TermFinding, check_terms

MAX_INPUT_CHARS = 20_000
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
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
    past: str = ""  # 套写: DOC_ID[:HEADING] of a past section, or "" to draft from the bullets

    def sources(self) -> list[Source]:
        """Where the writer gave facts: 标题, 要点N (1-based), 数字表第N行
        (see :mod:`drafting.provenance`)."""
        out = [Source(HEADING, self.heading)] if self.heading.strip() else []
        out += [Source(bullet_label(n), b) for n, b in enumerate(self.bullets, 1)]
        return out + [Source(row_label(n), f.as_text()) for n, f in enumerate(self.figures, 1)]

    def provided_text(self) -> str:
        """The bullets and figure rows as one text (the heading's figures are allowed, not required)."""
        return "\n".join(s.text for s in self.sources() if s.label != HEADING)

    def pairs(self) -> list[tuple[str, float, float, str]]:
        out = []
        for f in self.figures:
            try:
                out.append((f.name, float(f.value.replace(",", "")), float(f.last.replace(",", "")), f.unit))
            except ValueError:
                continue
        return out

    def validate(self, settings: Settings | None = None) -> None:
        limit = (settings.max_bullet_chars if settings is not None
                 else Settings.model_fields["max_bullet_chars"].default)
        if self.heading.strip() and not has_words(self.heading):
            raise InputError(f"标题“{_short(self.heading)}”只有标点或符号，没有文字。"
                             "请写明这一节写什么，例如“（三）城市更新”。")
        for n, b in enumerate(self.bullets, 1):
            if b.strip() and not has_words(b):
                raise InputError(
                    f"第{n}条要点“{_short(b)}”只有标点或符号，没有文字，无法起草。"
                    "请写明做了什么、数字是多少，或删去这一行后再生成。你填写的内容都还在输入框里。"
                )
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
        for n, b in enumerate(self.bullets, 1):
            if len(b) > limit:
                raise InputError(
                    f"第{n}条要点有{len(b)}字，超过单条要点的上限{limit}字：要点只写一件事和它的数字，不是整段成文。"
                    "请把它拆成几条短要点（每行一条），或分节起草。你填写的内容都还在输入框里。"
                )


def request_json(req: DraftRequest) -> dict[str, Any]:
    """A request as history stores it with each version (``inputs``)."""
    return {
        "heading": req.heading,
        "bullets": list(req.bullets),
        "figures": [[f.name, f.value, f.unit, f.last] for f in req.figures],
        "doc_type": req.doc_type,
        "target_chars": req.target_chars,
        "past": req.past,
    }


def request_from_json(data: dict[str, Any] | None) -> DraftRequest:
    """The request of a stored version's ``inputs`` (a pasted text's first line is no source)."""
    data = data or {}
    return DraftRequest(
        heading="" if data.get("pasted") else str(data.get("heading", "")),
        bullets=[str(b) for b in data.get("bullets", [])],
        figures=[FigureRow(*[str(c) for c in row[:4]]) for row in data.get("figures", []) if row],
        doc_type=str(data.get("doc_type") or "工作总结"),
        target_chars=int(data.get("target_chars") or 400),
        past=str(data.get("past") or ""),
    )


def has_words(text: str) -> bool:
    """True when ``text`` carries content: a letter, a Chinese character or a digit (figures alone are
    content); punctuation, symbols and spaces alone are not (「——……。!!!。」)."""
    return any(ch.isalnum() for ch in text)


def require_words(text: str, what: str) -> None:
    """:class:`InputError` when ``text`` is not empty but has no words (punctuation or symbols only)."""
    if text.strip() and not has_words(text):
        raise InputError(
            f"{what}只有标点或符号（“{_short(text)}”），没有文字，无法检查或修改。"
            "请写入或粘贴完整的句子后再试；原来的内容没有改动。"
        )


def _short(text: str, n: int = 12) -> str:
    text = text.strip()
    return text if len(text) <= n else text[:n] + "…"


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
    references: list[Citation] = field(default_factory=list)  # 可参考的往年段落: retrieved, nothing taken
    provenance: dict[str, int] = field(default_factory=dict)  # body characters by source (seam.SOURCES)
    inherited: list[str] = field(default_factory=list)  # 套写: 沿用往年表述，请核实
    corpus: CorpusChecks = field(default_factory=CorpusChecks)  # figure ledger + policy citations

    @property
    def status(self) -> str:
        if (self.figures.status != "ok" or any(t.severity == "必错" for t in self.terms)
                or self.corpus.blocking):
            return "needs_review"
        return "ok"

    def reasons(self) -> list[str]:
        out = []
        if self.figures.missing:
            out.append("漏写数字：" + "、".join(f.raw for f in self.figures.missing))
        out += [f.message for f in self.figures.unverified]
        out += [f"推算有误：{d.explanation}" for d in self.figures.derived if not d.ok]
        out += [f"提法（{t.severity}）：“{t.found}”应为“{t.suggest}”"
                for t in self.terms if t.severity == "必错"]
        out += self.corpus.messages()
        return out

    def to_json(self) -> dict[str, Any]:
        fig = self.figures.to_json()
        return {
            "text": self.text,
            "engine": self.engine,
            "status": self.status,
            "citations": [c.to_json() for c in self.citations],
            "references": [c.to_json() for c in self.references],
            "provenance": self.provenance,
            "inherited": self.inherited,
            "figures": fig,
            "terms": [t.to_json() for t in self.terms],
            "reasons": self.reasons(),
            "notes": self.notes,
            "corpus": self.corpus.to_json(),
        }


def check(
    text: str,
    provided: str | Sequence[str] | Sequence[Source],
    pairs: Sequence[tuple[str, float, float, str]] = (),
) -> tuple[GuardReport, list[TermFinding]]:
    """The checks every draft, refinement and suggestion goes through.

    ``provided`` is best a list of :class:`Source` (``DraftRequest.sources()`` plus the writer's edits and
    confirmations): each figure then knows where it was given, and the heading, edits and confirmations
    allow figures without requiring them (:func:`drafting.provenance.settle`).
    """
    return settle(check_figures(text, provided, pairs=list(pairs))), check_terms(text)


def review(
    text: str, provided: Sequence[Source], pairs: Sequence[tuple[str, float, float, str]] = ()
) -> DraftResult:
    """``text`` checked as a result (status and Chinese reasons), e.g. before an export."""
    guard, terms = check(text, provided, pairs)
    return DraftResult(text, "", guard, terms, [])


def cite(
    text: str, hits: Sequence[Hit], only: Sequence[Hit] | None = None, threshold: float = 0.12
) -> list[Citation]:
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

    :func:`drafting.style_cache.load_or_build` caches it in ``<store>/style.json``; here it is also kept in
    memory, keyed by the keyword index's fingerprint (the same hash of the chunk ids), so a draft
    after the first costs a dictionary lookup.
    """
    if store.count() == 0:
        return None
    key = (str(store.settings.chroma_url or store.settings.store_path().resolve()),
           store.keyword().fingerprint)
    profile = _PROFILES.get(key)
    if profile is None:
        profile = _PROFILES[key] = load_or_build(store)
        release_memory()  # a rebuild reads every chunk of the store: give that memory back
    return profile


def style_hints_of(profile: StyleProfile | None) -> str:
    return profile.prompt_hints() if profile is not None and profile.chunks else DEFAULT_HINTS


def draft(
    req: DraftRequest,
    settings: Settings,
    *,
    engine: Engine | None = None,
    store: CorpusStore | None = None,
    on_delta: OnDelta | None = None,
    exclude_doc_ids: Sequence[str] = (),
    style_hints: str = "",
    use_retrieval: bool = True,
    marks: Sequence[str] = (),
) -> DraftResult:
    """Draft one section; ``style_hints`` overrides the hints taken from the store's style profile.

    Every engine goes through one seam (:func:`drafting.seam.compose_with`): it gets the request and
    the exemplars and returns the text plus what it borrowed.  A citation is listed only for a passage
    text or structure was taken from, linked to the paragraph that uses it; the other retrieved
    passages are returned apart as ``references`` (可参考的往年段落).  ``use_retrieval=False`` drafts
    without exemplars (the eval's baseline).
    """
    req.validate(settings)
    engine = engine or get_engine(settings)
    store = store or CorpusStore(settings)
    hits = exemplars_for(store, req, settings.retrieval.exemplars, exclude_doc_ids) if use_retrieval else []
    profile = house_style(store) if use_retrieval else None
    notes = [] if hits or not use_retrieval else [
        "语料库为空，没有可参考的往年材料：请先导入往年总结、汇报（drafting ingest）。"]
    provided = req.provided_text()
    past: PastSection | None = None
    if req.past.strip() in ("自动", "auto"):
        from drafting.template import propose_past

        past = propose_past([h for h in hits if h.chunk.doc_type == req.doc_type] or hits)
        if past is None:
            raise InputError(
                "没有检索到可以套写的往年段落。请先导入往年材料，或改为按要点起草（套写一栏留空）。")
    elif req.past.strip():
        from drafting.template import past_section

        past = past_section(store, req.past, req.heading, req.bullets)
        if past.doc_id in exclude_doc_ids:
            raise InputError("套写所选的往年文档已被排除在检索之外，请另选一篇往年材料。")
    family = profile.enumerations[0][0] if profile is not None and profile.enumerations else ""
    task = DraftTask(
        heading=req.heading,
        bullets=list(req.bullets),
        rows=[f.as_text() for f in req.figures],  # the figures table is the writer's too
        provided=provided,
        pairs=req.pairs(),
        doc_type=req.doc_type,
        target_chars=req.target_chars,
        form=req.form,
        exemplars=hits,
        past=past,
        phrases=house_phrases(store) if use_retrieval else None,
        exclude_doc_ids=list(exclude_doc_ids),
        sentence_chars=int(profile.sentence_stat("median")) if profile is not None and profile.chunks else 57,
        enumerates=family in ("", "一是/二是"),
        style_hints=style_hints or style_hints_of(profile),
        settings=settings,
        use_retrieval=use_retrieval,
        figure_rows=list(req.figures),
    )
    comp = compose_with(engine, task, on_delta)
    text = comp.text.strip()
    if comp.pieces and all(p.source == "model" for p in comp.pieces):
        citations = [c for c in cite(text, hits) if c.paragraphs]
    else:
        citations = [Citation(b.doc_id, b.title, b.heading_path, b.text, b.paragraphs) for b in comp.borrowed]
    taken = {c.doc_id + "|" + "›".join(c.heading_path) for c in citations}
    references = [c for c in cite(text, hits) if c.doc_id + "|" + "›".join(c.heading_path) not in taken]
    for c in references:
        c.paragraphs = []
    # the heading is the writer's too (一、2018年工作回顾): its figures are given (标题), not invented
    guard, terms = check(text, req.sources(), req.pairs())
    corpus = corpus_checks(
        store, settings, text, req.provided_text(), req.pairs(), year=req.year, marks=marks)
    return DraftResult(text, engine.name, guard, terms, citations, [*notes, *comp.notes, *corpus.notes],
                       references, comp.provenance(), comp.inherited, corpus=corpus)


def refine(
    previous: str,
    instruction: str,
    req: DraftRequest,
    settings: Settings,
    *,
    engine: Engine | None = None,
    store: CorpusStore | None = None,
    on_delta: OnDelta | None = None,
    extra_sources: Sequence[Source] = (),
    marks: Sequence[str] = (),
) -> DraftResult:
    """One chat turn on an existing draft; the result is guarded like a fresh draft.

    The figures of ``previous`` are *not* allowed for being there: the result is checked against the
    request's sources plus ``extra_sources``, the writer's own edits and confirmations
    (:func:`drafting.provenance.session_sources`), so a turn that changes nothing leaves a flagged
    figure flagged.

    A model gets the house-style hints of the store's profile in its system prompt; when the store
    cannot be opened the turn still runs, with the default hints and a note saying so.
    """
    if not instruction.strip():
        raise InputError("修改要求是空的。请写明怎么改，例如“压缩到300字”或“改成一是二是三是”。")
    if not previous.strip():
        raise InputError("还没有可修改的稿件。请先生成初稿，或把稿件粘贴进来。")
    require_words(previous, "稿件")
    engine = engine or get_engine(settings)
    notes: list[str] = []
    revise = getattr(engine, "revise", None)  # an engine that revises without a prompt (offline)
    if callable(revise):
        text, note = revise(previous, instruction)
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
            Message("system", render("system.j2", office=settings.office, doc_type=req.doc_type)),
            Message("user", render("refine.j2", draft=defuse(previous), instruction=instruction,
                                   figures=req.figures, style_hints=defuse(hints))),
        ]
        text = collect(engine, messages, on_delta=on_delta).strip()
    guard, terms = check(text, [*req.sources(), *extra_sources], req.pairs())
    provided = "\n".join([req.provided_text(), *(s.text for s in extra_sources)])
    corpus = corpus_checks(store, settings, text, provided, req.pairs(), year=req.year, marks=marks)
    return DraftResult(text, engine.name, guard, terms, [], [*notes, *corpus.notes], corpus=corpus)


__all__ = [
    "Citation",
    "DraftRequest",
    "DraftResult",
    "EngineError",
    "FigureRow",
    "check",
    "draft",
    "has_words",
    "refine",
    "request_from_json",
    "request_json",
    "require_words",
    "review",
]
