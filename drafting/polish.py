"""``drafting polish``: phrasing suggestions on the writer's own text, each one local and guarded.

    text ─ sentences ─┬─ corpus: search() → the most similar past sentence, its figures swapped for the
                      │          writer's (matched by unit and by what they count) or 【待补充】
                      ├─ rule:   check_terms() findings + colloquial → 公文 rules (data/colloquial.jsonl)
                      └─ llm:    prompts/polish.j2, one rewrite per paragraph (openai / local only)
         every suggestion ─ compare_suggestion() (figures) + check_terms() (suggested text) ─ flags

Every suggestion carries ``start``/``end`` offsets into the text (``text[start:end] == original``),
so a UI can show it as a diff (:func:`word_diff`) and accept or reject it on its own
(:func:`apply_suggestions`).  Suggestions may overlap (a term fix inside a sentence that also has a
corpus phrasing); accepting two overlapping ones is refused with a Chinese message.

The corpus never lends a number: every figure, ``*`` mask or digit that the writer did not write
becomes 【待补充】, and any suggestion whose figures differ from the original is flagged.  Polish
never destroys a figure: a suggestion that removes or replaces one of the writer's figures is not
offered at all (:func:`keeps_figures`), and a flagged suggestion is never applied by 全部采纳
(:func:`safe_ids`).

LLM rewrites are per paragraph, not per sentence: a model needs the paragraph to keep its logic
and to use house forms that span sentences (一是…二是…), and one call per paragraph keeps a long
text to a few calls on a slow local model.  A paragraph longer than :data:`LLM_BLOCK_CHARS` is sent
in sentence-aligned blocks so that each rewrite stays small enough to review.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from drafting import textseg
from drafting.colloquial import colloquial_findings
from drafting.corpuscheck import CorpusChecks, corpus_checks
from drafting.engines import Engine, collect
from drafting.errors import InputError
from drafting.guard import compare_suggestion, extract_figures, same_value
from drafting.headings import heading_level
from drafting.offline import GAP, bigrams
from drafting.prompting import Exemplar, build_messages, defuse
from drafting.quantities import NUMBER_STRINGS_RE
from drafting.records import Hit
from drafting.search import search
from drafting.sentences import split_sentences
from drafting.settings import Settings
from drafting.store import CorpusStore
from drafting.template import fill
from drafting.terms import TermFinding, check_terms, load_lexicon

__all__ = [
    "MAX_POLISH_CHARS",
    "PolishResult",
    "Suggestion",
    "apply_suggestions",
    "check_length",
    "context",
    "corpus_phrasing",
    "keeps_figures",
    "polish",
    "rule_suggestions",
    "safe_ids",
    "word_diff",
]

MAX_POLISH_CHARS = 20_000
LLM_BLOCK_CHARS = 600
MIN_SENTENCE_CHARS = 8  # CJK characters; shorter pieces (headings, 一是) get no corpus phrasing
MIN_SIMILARITY = 0.3  # bigram Dice between the writer's sentence and a corpus sentence
LENGTH_RATIO = (0.6, 1.7)  # a corpus sentence much shorter or longer than the writer's is not phrasing
HITS_PER_SENTENCE = 3

Kind = Literal["corpus", "rule", "llm"]
_KIND_ORDER = {"rule": 0, "corpus": 1, "llm": 2}


# numbers the guard does not count as figures but that still belong to a past report
_NUMBERS = NUMBER_STRINGS_RE
_ENUM_MARK = re.compile(
    r"^(?:[一二三四五六七八九十]+是|第[一二三四五六七八九十]+[，、]|首先，|其次，|再次，|最后，)"
)
_END = "。！？；!?;，,"
_LABEL = re.compile(r"^(?:改写|润色)(?:后|版本|结果|稿)?(?:的文字)?[：:]\s*")


# ---- records ------------------------------------------------------------------------------------
@dataclass
class Suggestion:
    """One rewrite of ``text[start:end]`` (== ``original``), with the checks it went through."""

    kind: Kind
    start: int
    end: int
    original: str
    suggestion: str
    reason: str
    source: dict[str, Any] | None = None
    severity: str | None = None  # for 规范提法 fixes: 必错 | 疑似 | 提示
    figures_changed: list[str] = field(default_factory=list)
    terms: list[TermFinding] = field(default_factory=list)
    id: str = ""

    @property
    def flags(self) -> list[str]:
        out = [f"数字有变化：{note}" for note in self.figures_changed]
        out += [f"提法（{t.severity}）：“{t.found}”应为“{t.suggest}”" for t in self.terms]
        gaps = self.suggestion.count(GAP) - self.original.count(GAP)
        if gaps > 0:
            out.append(f"待补充：建议中有{gaps}处{GAP}，请填入本期数字或删去")
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "original": self.original,
            "suggestion": self.suggestion,
            "reason": self.reason,
            "source": self.source,
            "severity": self.severity,
            "flags": self.flags,
            "figures_changed": self.figures_changed,
            "terms": [t.to_json() for t in self.terms],
        }


@dataclass
class PolishResult:
    suggestions: list[Suggestion]
    notes: list[str]
    engine: str
    corpus: CorpusChecks | None = None  # figure ledger + policy citations on the writer's text

    @property
    def needs_review(self) -> bool:
        """The writer's own text has a certain 规范提法 error (必错)."""
        return any(s.kind == "rule" and s.severity == "必错" for s in self.suggestions)

    def to_json(self) -> dict[str, Any]:
        return {
            "suggestions": [s.to_json() for s in self.suggestions],
            "notes": self.notes,
            "engine": self.engine,
            "corpus": self.corpus.to_json() if self.corpus is not None else None,
        }


# ---- spans --------------------------------------------------------------------------------------
def _spans_of(text: str, pieces: Iterable[str]) -> list[tuple[int, int]]:
    """Offsets of ``pieces``, which occur in ``text`` in order (as split_sentences returns them)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for piece in pieces:
        i = text.find(piece, pos)
        if i < 0:  # cannot happen for slices of text; be safe rather than wrong
            continue
        spans.append((i, i + len(piece)))
        pos = i + len(piece)
    return spans


def sentence_spans(text: str) -> list[tuple[int, int]]:
    return _spans_of(text, split_sentences(text))


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    pos = 0
    for line in text.split("\n"):
        a, b = pos, pos + len(line)
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            spans.append((a, b))
        pos += len(line) + 1
    return spans


def _cjk_len(text: str) -> int:
    return sum(1 for c in text if "\u4e00" <= c <= "\u9fff")


# ---- checks -------------------------------------------------------------------------------------
def keeps_figures(original: str, suggestion: str) -> bool:
    """True when every figure of the writer's ``original`` is still in ``suggestion`` (same value and
    unit, as often as written): a rewrite that drops or replaces one is never offered."""
    left = extract_figures(suggestion)
    for f in extract_figures(original):
        match = next((g for g in left if same_value(f, g)), None)
        if match is None:
            return False
        left.remove(match)
    return True


def _guarded(s: Suggestion) -> Suggestion:
    """Run the figure guard and the terms check on a suggestion and record what they found."""
    s.figures_changed = compare_suggestion(s.original, s.suggestion)
    s.terms = check_terms(s.suggestion)
    return s


# ---- rule suggestions ---------------------------------------------------------------------------
def _rule_basis(finding: TermFinding) -> str:
    for rule in load_lexicon():
        if rule.suggest == finding.suggest and rule.reason == finding.reason:
            return rule.source
    return "规范提法词库"


def rule_suggestions(text: str) -> list[Suggestion]:
    """One suggestion per 规范提法 finding, then the colloquial → 公文 rules
    (:mod:`drafting.colloquial`, ``data/colloquial.jsonl``) where no finding overlaps."""
    out: list[Suggestion] = []
    for f in check_terms(text):
        out.append(
            Suggestion(
                "rule",
                f.start,
                f.end,
                f.found,
                f.suggest,
                f"规范提法（{f.severity}）：{f.reason}",
                {"basis": _rule_basis(f)},
                severity=f.severity,
            )
        )
    for c in colloquial_findings(text, taken=[(s.start, s.end) for s in out]):
        out.append(Suggestion("rule", c.start, c.end, c.found, c.suggest, f"文风：{c.reason}",
                              {"basis": "公文用语习惯"}))
    out.sort(key=lambda s: s.start)
    return [_guarded(s) for s in out]


# ---- corpus suggestions -------------------------------------------------------------------------
def _similarity(a: str, b: str) -> float:
    x, y = bigrams(a), bigrams(b)
    return 2 * len(x & y) / max(1, len(x) + len(y))


def adapt_figures(corpus_sentence: str, original: str) -> str:
    """The corpus sentence with each figure slot holding the writer's figure for the same unit and
    the same indicator, or 【待补充】; any other number the writer did not write becomes 【待补充】 too.
    The slot filling is :func:`drafting.template.fill`, the one the offline engine's 套写 uses."""
    pieces, _placed, _inherited = fill(corpus_sentence, [original], whole_notes=False, match=0.5)
    text = "".join(p.text for p in pieces)
    allowed = set(_NUMBERS.findall(original))
    text = _NUMBERS.sub(lambda m: m.group() if m.group() in allowed else GAP, text)
    return re.sub(f"(?:{re.escape(GAP)})+", GAP, text)


def _fit_ends(candidate: str, original: str) -> str:
    """Keep the writer's enumeration marker (一是) and sentence-final punctuation."""
    core = _ENUM_MARK.sub("", candidate.strip()).rstrip(_END + " ")
    marker = m.group() if (m := _ENUM_MARK.match(original)) else ""
    tail = original[len(original.rstrip(_END)) :]
    return marker + core + tail


def corpus_phrasing(sentence: str, hits: Sequence[Hit], start: int = 0) -> Suggestion | None:
    """The best corpus sentence for ``sentence`` as a suggestion, or None when nothing is close.

    Candidates are the hits' sentences with a bigram Dice ≥ :data:`MIN_SIMILARITY` and a length
    within :data:`LENGTH_RATIO` of the writer's.  Those with the fewest flags (figure changes,
    【待补充】 gaps, 规范提法) win, then the most similar.  A candidate whose own wording breaks a 必错 rule
    is never offered.
    """
    best: tuple[tuple[int, float], Suggestion] | None = None
    n = max(1, _cjk_len(sentence))
    for hit in hits:
        for cand in split_sentences(hit.chunk.text):
            cand = cand.strip()
            if heading_level(cand) or not LENGTH_RATIO[0] <= _cjk_len(cand) / n <= LENGTH_RATIO[1]:
                continue
            score = _similarity(sentence, cand)
            if score < MIN_SIMILARITY:
                continue
            text = _fit_ends(adapt_figures(cand, sentence), sentence)
            if (text == sentence or any(t.severity == "必错" for t in check_terms(text))
                    or not keeps_figures(sentence, text)):
                continue
            c = hit.chunk
            source = {
                "doc_id": c.doc_id,
                "title": c.title,
                "heading_path": list(c.heading_path),
                "year": c.year,
                "sentence": cand,
            }
            s = _guarded(
                Suggestion(
                    "corpus",
                    start,
                    start + len(sentence),
                    sentence,
                    text,
                    f"往年材料中的相似表述（相似度{score:.2f}）",
                    source,
                )
            )
            key = (-len(s.flags), score)
            if best is None or key > best[0]:
                best = (key, s)
    return best[1] if best else None


# ---- llm suggestions ----------------------------------------------------------------------------
def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraphs, cut at sentence ends into blocks of at most LLM_BLOCK_CHARS; headings skipped."""
    out: list[tuple[int, int]] = []
    for a, b in _paragraph_spans(text):
        para = text[a:b]
        if _cjk_len(para) < MIN_SENTENCE_CHARS or (heading_level(para) and not re.search("[。！？]", para)):
            continue
        start = a
        for sa, sb in sentence_spans(para):
            if sa + a > start and sb + a - start > LLM_BLOCK_CHARS:
                out.append((start, sa + a))
                start = sa + a
        out.append((start, b))
    return [(x, y) for x, y in out if text[x:y].strip()]


def _clean_reply(reply: str) -> str:
    lines = [ln.strip() for ln in defuse(reply).strip().splitlines() if ln.strip()]
    return _LABEL.sub("", "".join(lines)).strip()


def llm_suggestions(
    text: str,
    engine: Engine,
    settings: Settings,
    hits_at: Callable[[int, int], list[Hit]],
    *,
    doc_type: str = "工作总结",
    on_delta: Callable[[str], None] | None = None,
) -> list[Suggestion]:
    """One house-style rewrite per paragraph block from ``engine`` (raises EngineError on failure)."""
    out = []
    for a, b in _blocks(text):
        original = text[a:b]
        exemplars = [
            Exemplar(i + 1, h.chunk.title, " › ".join(h.chunk.heading_path), h.chunk.text)
            for i, h in enumerate(hits_at(a, b))
        ]
        messages = build_messages(
            {"office": settings.office, "doc_type": doc_type},
            "polish.j2",
            {"text": defuse(original)},
            exemplars,
            context_tokens=settings.llm_context_tokens,
            reply_tokens=settings.llm_max_tokens,
        )
        rewrite = _clean_reply(collect(engine, messages, on_delta=on_delta))
        if rewrite and rewrite != original:
            out.append(
                _guarded(
                    Suggestion("llm", a, b, original, rewrite, "按本局文风整段润色", {"engine": engine.name})
                )
            )
    return out


# ---- the pipeline -------------------------------------------------------------------------------
def check_length(text: str, limit: int = MAX_POLISH_CHARS,
                 advice: str = "请分段润色，每次不超过{limit}字。") -> None:
    """The size limit of a polish request (the CLI and the UI word the empty case each their own way);
    the 起草 editor passes its own ``limit`` and ``advice``."""
    if len(text) > limit:
        raise InputError(f"文字太长（{len(text)}字，上限{limit}字）。" + advice.format(limit=limit))


def _validate(text: str) -> None:
    if not text or not text.strip():
        raise InputError("要润色的文字是空的。请粘贴或选中一句话、一段文字，或用 - 从标准输入读入。")
    check_length(text)
    check_words(text)


def check_words(text: str) -> None:
    """Text of punctuation or symbols only has nothing to polish (the CLI and the UI both ask)."""
    from drafting.drafter import require_words

    require_words(text, "要润色的文字")


def polish(
    text: str,
    settings: Settings,
    *,
    engine: Engine | None = None,
    store: CorpusStore | None = None,
    doc_type: str = "工作总结",
    on_delta: Callable[[str], None] | None = None,
) -> PolishResult:
    """Suggestions on the writer's ``text``, sorted by position, ids ``s1``, ``s2``…"""
    _validate(text)
    if engine is None:
        from drafting.drafter import get_engine

        engine = get_engine(settings)
    store = store or CorpusStore(settings)
    notes: list[str] = []
    suggestions = rule_suggestions(text)

    hits_by_sentence: list[tuple[int, int, list[Hit]]] = []
    if store.count() == 0:
        notes.append(
            "语料库为空，没有往年材料可供参考，只给出规范提法和文风建议。请先运行 drafting ingest "
            "导入往年总结、汇报。"
        )
    else:
        for a, b in sentence_spans(text):
            sentence = text[a:b]
            if _cjk_len(sentence) < MIN_SENTENCE_CHARS or heading_level(sentence):
                continue
            hits = search(store, sentence, k=HITS_PER_SENTENCE)
            hits_by_sentence.append((a, b, hits))
            found = corpus_phrasing(sentence, hits, a)
            if found is not None:
                suggestions.append(found)

    def hits_at(a: int, b: int) -> list[Hit]:
        seen: dict[str, Hit] = {}
        for sa, sb, hits in hits_by_sentence:
            if a <= sa and sb <= b:
                for h in hits:
                    seen.setdefault(h.chunk.chunk_id, h)
        return sorted(seen.values(), key=lambda h: -h.score)[:4]

    if not getattr(engine, "rewrites", True):  # an engine that cannot rewrite freely (offline)
        notes.append(
            "当前是 offline 引擎（不调用模型），没有整段改写建议，只给出往年材料中的相似表述和规则建议。"
            "如需按本局文风整段改写，请配置 openai 或 local 引擎（DRAFTING_LLM_BASE_URL 或 "
            "DRAFTING_LLM_GGUF）。"
        )
    else:
        suggestions += llm_suggestions(text, engine, settings, hits_at, doc_type=doc_type, on_delta=on_delta)

    kept = [s for s in suggestions if keeps_figures(s.original, s.suggestion)]
    if len(kept) < len(suggestions):
        notes.append(f"有{len(suggestions) - len(kept)}条改写会删去或改动你写的数字，没有列出。")
    suggestions = kept
    suggestions.sort(key=lambda s: (s.start, s.end, _KIND_ORDER[s.kind]))
    for n, s in enumerate(suggestions, 1):
        s.id = f"s{n}"
    if not suggestions:
        notes.append("没有找到需要修改的地方，也没有找到足够相似的往年表述。")
    corpus = corpus_checks(store, settings, text)
    return PolishResult(suggestions, notes + corpus.notes, engine.name, corpus)


# ---- for the UI ---------------------------------------------------------------------------------
def apply_suggestions(text: str, suggestions: Sequence[Suggestion], accepted_ids: Collection[str]) -> str:
    """``text`` with the accepted suggestions applied; the others are left as written.

    Raises :class:`InputError` when an id is unknown, when the text no longer matches a suggestion
    (it was edited after polishing) or when two accepted suggestions change the same words.
    """
    by_id = {s.id: s for s in suggestions}
    unknown = [i for i in accepted_ids if i not in by_id]
    if unknown:
        raise InputError(f"找不到建议 {'、'.join(map(str, unknown))}。请重新生成润色建议后再选择。")
    chosen = sorted((by_id[i] for i in set(accepted_ids)), key=lambda s: (s.start, s.end))
    for s in chosen:
        if text[s.start : s.end] != s.original:
            raise InputError(f"原文在建议 {s.id} 处已改动，建议已失效。请重新生成润色建议。")
    for prev, cur in itertools.pairwise(chosen):
        if cur.start < prev.end:
            raise InputError(f"建议 {prev.id} 和 {cur.id} 修改的是同一处文字，只能接受其中一条。")
    out = text
    for s in reversed(chosen):
        out = out[: s.start] + s.suggestion + out[s.end :]
    return out


def safe_ids(suggestions: Sequence[Suggestion]) -> list[str]:
    """The suggestions 全部采纳 may apply: those without a flag (changed figures, 【待补充】, a term
    problem in the suggested text).  A flagged one is applied only when the writer ticks it."""
    return [s.id for s in suggestions if not s.flags]


CONTEXT_CHARS = 12  # characters of the writer's text shown either side of a suggestion
CONTEXT_MARK_CHARS = 24  # a longer original is shown by its ends


def context(text: str, s: Suggestion, width: int = CONTEXT_CHARS) -> tuple[str, str, str]:
    """(before, original, after): about ``width`` characters of ``text`` either side of ``s``, in
    whole words (jieba; a figure is never cut) and within its paragraph, with … where the paragraph
    goes on; a long original is cut in the middle.

    Two identical suggestions (老百姓 → 群众 twice) are told apart by it.
    """
    a, b = s.start, s.end
    para_start = text.rfind("\n", 0, a) + 1
    para_end = text.find("\n", b)
    para_end = len(text) if para_end < 0 else para_end
    before_words = _words(text[max(para_start, a - 3 * width) : a])
    after_words = _words(text[b : min(para_end, b + 3 * width)])
    before = after = ""
    while before_words and len(before) < width and len(before) + len(before_words[-1]) <= width + 4:
        before = before_words.pop() + before
    while after_words and len(after) < width and len(after) + len(after_words[0]) <= width + 4:
        after += after_words.pop(0)
    before = ("…" if a - len(before) > para_start else "") + before.lstrip()
    after = after.rstrip() + ("…" if b + len(after) < para_end else "")
    original = text[a:b]
    if len(original) > CONTEXT_MARK_CHARS:
        half = CONTEXT_MARK_CHARS // 2
        original = original[:half] + "…" + original[-half:]
    return before, original, after


def _words(text: str) -> list[str]:
    words = textseg.tokenizer().lcut(text, HMM=False)
    return words if "".join(words) == text else list(text)


DiffOp = Literal["equal", "insert", "delete"]


def word_diff(a: str, b: str) -> list[tuple[DiffOp, str]]:
    """Word-level diff (jieba words): joining equal+delete gives ``a``, equal+insert gives ``b``."""
    seg = textseg.tokenizer()
    ta, tb = seg.lcut(a, HMM=False), seg.lcut(b, HMM=False)
    if "".join(ta) != a:
        ta = list(a)
    if "".join(tb) != b:
        tb = list(b)
    out: list[tuple[DiffOp, str]] = []

    def push(op: DiffOp, piece: str) -> None:
        if not piece:
            return
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + piece)
        else:
            out.append((op, piece))

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes():
        if tag == "equal":
            push("equal", "".join(ta[i1:i2]))
        else:
            push("delete", "".join(ta[i1:i2]))
            push("insert", "".join(tb[j1:j2]))
    return out
