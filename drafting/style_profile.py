"""House style learned from the writer's own corpus: the profile and how it is mined.

Profile (:func:`build_profile`)
===============================

Built from chunks (the store's rows, or chunks made by :func:`drafting.chunking.chunk_document`).
Every statistic is counted over what the corpus really contains; nothing is hard-coded except the
small word lists below that tell a verb from a subject or a time phrase.

* **headings** – every heading once per document: the chunk's ``heading_path`` plus heading lines
  written into merged chunk text.  Only headings with a marker count (``一、`` / ``（一）`` / ``1.`` /
  ``（1）``, levels from :data:`drafting.headings.HEADING_LEVELS`).  The marker is removed and the
  rest is split on ，、；: each part is described by its length in characters, quotes and other
  punctuation not counted (``聚焦转型升级，做实企业服务`` → ``"6+6"``, ``强化理论武装`` → ``"6"``).
  ``headings`` keeps the 8 most common patterns per level, ``heading_examples`` up to 6 real
  headings of at most 30 characters (marker removed): one for each common pattern in turn, from a
  document not yet used while there is one.
* **enumerations** – families ``一是/二是``, ``一要/二要``, ``第一/第二``, ``首先/其次`` found by
  :func:`drafting.headings.find_enumerations`; a document uses a family when it has at least two
  distinct markers of it.  Counts are documents.
* **openers** – body sentences (:func:`drafting.sentences.split_sentences` over non-heading lines)
  lose a leading enumeration marker (``一是``), a short time or setting clause (``2023年上半年，``,
  ``下一步，``, ``在…方面，``), a subject (``我局``, ``市住建局``, ``全市``) and an auxiliary
(``将``, ``要``).
  The first word is then the longest match (4, 3, 2 characters) in jieba's dictionary — the one
  :mod:`drafting.textseg` segments with; running the full segmenter over the corpus would take
  longer than the whole profile may (2 s for 3,850 chunks).  Words in :data:`NON_HEADS` (pronouns,
  time words, connectives, common subject nouns such as 经济 or 住房) are not heads.  An adverb in
  :data:`MODIFIERS` (``深入``, ``扎实``, ``持续``…) joins a following verb: ``深入推进``, ``扎实开展``.
  "Verb" here means a word the corpus itself uses at least 3 times as a plain clause head.  Top 30.
* **verbs** – the same head word for every clause (split on ，；。：！？), the adverb dropped
  (``深入推进`` and the dictionary word ``认真落实`` count ``推进`` and ``落实``).  Top 30.
* **sentence_chars / section_chars** – median, 10th and 90th percentile (and mean) of body-sentence
  length and of body length per section (chunks of one document under one heading path summed).
* **closings** – the last sentence of each document (its highest-position chunk) reduced to its
  closing formula with the specifics replaced by …: ``为…而努力奋斗``, ``奋力谱写…新篇章``,
  ``为…作出新的更大贡献``, ``…推向新高度``, ``汇报完毕，不当之处，请…批评指正``, ``特此报告`` …
  (:func:`closing_frame`).  A last sentence without a formula is not closing-like and not counted.
* **first_person** – share of documents that use ``我们``, and a bare ``我`` (not ``我局/我市/我国``,
  not the ceremonial ``我代表…``, not inside quotes such as “民有所呼、我有所应”).

The sentence reading (head words, closings, heading patterns) lives in :mod:`drafting.style_reading`;
the cache in the store in :mod:`drafting.style_cache`; the conformance score in :mod:`drafting.style_score`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from drafting.headings import find_enumerations
from drafting.records import Chunk
from drafting.sentences import split_sentences
from drafting.style_reading import (
    CLAUSE_SPLIT_RE,
    DEFAULT_SENTENCE,
    LEVEL_MARKERS,
    LEVEL_NAMES,
    MODIFIERS,
    WE_RE,
    WordDict,
    bare_i,
    body_lines,
    closing_frame,
    compose,
    enum_family,
    family_example,
    first_word,
    heading_pattern,
    jieba_dict,
    pattern_zh,
    strip_marker,
)

__all__ = ["BUREAU_RE", "StyleProfile", "build_profile", "bureau_docs", "prefer_bureau"]

PROFILE_VERSION = 1

TOP_WORDS = 30
TOP_PATTERNS = 8
TOP_CLOSINGS = 10
EXAMPLES_PER_LEVEL = 6
EXAMPLE_MAX_CHARS = 30


# --------------------------------------------------------------------------------------------
# the profile


@dataclass
class StyleProfile:
    """What the corpus's house style looks like, counted from the corpus itself."""

    fingerprint: str
    docs: int
    chunks: int
    headings: dict[int, list[tuple[str, int]]]
    heading_examples: dict[int, list[str]]
    enumerations: list[tuple[str, int]]
    openers: list[tuple[str, int]]
    verbs: list[tuple[str, int]]
    sentence_chars: dict[str, float]
    section_chars: dict[str, float]
    closings: list[tuple[str, int]]
    first_person: dict[str, float] = field(default_factory=dict)  # {"我们": share of docs, "我": …}

    # ---- serialisation ---------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "version": PROFILE_VERSION,
            "fingerprint": self.fingerprint,
            "docs": self.docs,
            "chunks": self.chunks,
            "headings": {str(k): [[p, n] for p, n in v] for k, v in self.headings.items()},
            "heading_examples": {str(k): list(v) for k, v in self.heading_examples.items()},
            "enumerations": [[w, n] for w, n in self.enumerations],
            "openers": [[w, n] for w, n in self.openers],
            "verbs": [[w, n] for w, n in self.verbs],
            "sentence_chars": dict(self.sentence_chars),
            "section_chars": dict(self.section_chars),
            "closings": [[w, n] for w, n in self.closings],
            "first_person": dict(self.first_person),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StyleProfile:
        """Inverse of :meth:`to_json`; raises ValueError/KeyError/TypeError on a malformed dict."""
        if int(data.get("version", 0)) != PROFILE_VERSION:
            raise ValueError("style profile version differs")

        def pairs(rows: Any) -> list[tuple[str, int]]:
            return [(str(a), int(b)) for a, b in rows]

        return cls(
            fingerprint=str(data["fingerprint"]),
            docs=int(data["docs"]),
            chunks=int(data["chunks"]),
            headings={int(k): pairs(v) for k, v in data["headings"].items()},
            heading_examples={int(k): [str(x) for x in v] for k, v in data["heading_examples"].items()},
            enumerations=pairs(data["enumerations"]),
            openers=pairs(data["openers"]),
            verbs=pairs(data["verbs"]),
            sentence_chars={str(k): float(v) for k, v in data["sentence_chars"].items()},
            section_chars={str(k): float(v) for k, v in data["section_chars"].items()},
            closings=pairs(data["closings"]),
            first_person={str(k): float(v) for k, v in data.get("first_person", {}).items()},
        )

    # ---- views -----------------------------------------------------------------------------
    def sentence_stat(self, key: str) -> float:
        return float(self.sentence_chars.get(key) or DEFAULT_SENTENCE[key])

    def opener_set(self) -> set[str]:
        return {w for w, _n in self.openers} | {w for w, _n in self.verbs}

    def summary_zh(self) -> str:
        """Readable multi-line summary (``drafting style``)."""
        if not self.chunks:
            return "语料库为空：请先用 drafting ingest 导入本局以往材料，再查看文风档案。"
        lines = [f"文风档案：{self.docs}篇文档，{self.chunks}个片段。"]
        for level in sorted(self.headings):
            pats = self.headings[level]
            if not pats:
                continue
            forms = "、".join(f"{pattern_zh(p)}（{n}）" for p, n in pats[:5])
            ex = "；".join(self.heading_examples.get(level, [])[:3])
            lines.append(
                f"{LEVEL_NAMES.get(level, str(level))}标题（{LEVEL_MARKERS.get(level, '')}）常见形式：{forms}"
                + (f"；例：{ex}" if ex else "")
            )
        if self.enumerations:
            lines.append("列举习惯：" + "、".join(f"{w}（{n}篇）" for w, n in self.enumerations))
        else:
            lines.append("列举习惯：语料中未见“一是……二是……”等列举。")
        if self.openers:
            lines.append("常用开头词：" + "、".join(f"{w}({n})" for w, n in self.openers[:15]))
        if self.verbs:
            lines.append("常用动词：" + "、".join(f"{w}({n})" for w, n in self.verbs[:15]))
        if self.sentence_chars:
            s = self.sentence_chars
            lines.append(
                f"句长：中位数{s['median']:.0f}字（10%的句子不超过{s['p10']:.0f}字，90%不超过{s['p90']:.0f}字）。"
            )
        if self.section_chars:
            s = self.section_chars
            lines.append(f"段落（每节正文）长度：中位数{s['median']:.0f}字（{s['p10']:.0f}–{s['p90']:.0f}字）。")
        if self.closings:
            lines.append("常用结尾：" + "；".join(f"{w}（{n}）" for w, n in self.closings[:5]))
        we = self.first_person.get("我们", 0.0)
        bare = self.first_person.get("我", 0.0)
        lines.append(f"人称：{we:.0%}的文档用“我们”，{bare:.0%}的文档用单独的“我”。")
        return "\n".join(lines)

    def prompt_hints(self) -> str:
        """Compact Chinese style rules for an LLM prompt (at most 300 characters)."""
        parts = ["标题按“一、”“（一）”“1.”“（1）”四级编号，不用Markdown符号"]
        forms = []
        for lvl in (1, 2):
            pats = self.headings.get(lvl) or []
            if pats:
                ex = self.heading_examples.get(lvl, [])[:1]
                forms.append(
                    f"{LEVEL_NAMES[lvl]}标题多为{pattern_zh(pats[0][0])}" + (f"（如“{ex[0]}”）" if ex else "")
                )
        if forms:
            parts.append("，".join(forms))
        fam = self.enumerations[0][0] if self.enumerations else "一是/二是"
        parts.append(f"列举三项以上用“{family_example(fam)}”")
        if self.openers:
            parts.append("句子多以" + "、".join(w for w, _ in self.openers[:6]) + "等动词开头")
        parts.append("多用四字短语")
        med = self.sentence_stat("median")
        p90 = self.sentence_stat("p90")
        parts.append(f"句长约{med:.0f}字，一般不超过{p90:.0f}字")
        if self.first_person.get("我", 0.0) < 0.2:
            parts.append("不用第一人称“我”，称“我局”")
        if self.closings:
            parts.append(f"全文结尾常用“{self.closings[0][0]}”")
        text = "本局文风：" + "；".join(parts) + "。"
        while len(text) > 300 and len(parts) > 2:
            del parts[1]  # heading forms go first: they carry the longest examples
            text = "本局文风：" + "；".join(parts) + "。"
        return text[:300]



def _percentiles(counts: Mapping[int, int]) -> dict[str, float]:
    """Median, p10, p90 (linear between the two nearest ranks) and mean of the values counted in
    ``counts`` (value → how many times it occurs): the numbers the sorted list of values gives,
    without holding one entry per sentence."""
    values = sorted(v for v, n in counts.items() if n > 0)
    if not values:
        return {}
    ends = list(accumulate(counts[v] for v in values))  # ends[i]: rank after the last copy of values[i]
    total = ends[-1]

    def at(rank: int) -> int:  # the value at this 0-based rank of the sorted list
        return values[bisect_right(ends, rank)]

    def q(p: float) -> float:
        k = (total - 1) * p
        lo = int(k)
        hi = min(lo + 1, total - 1)
        return round(at(lo) + (at(hi) - at(lo)) * (k - lo), 1)

    mean = sum(v * counts[v] for v in values) / total
    return {"median": q(0.5), "p10": q(0.1), "p90": q(0.9), "mean": round(mean, 1)}



# --------------------------------------------------------------------------------------------
# build


def build_profile(  # noqa: C901  one pass over the chunks, a branch per statistic it counts
    chunks: Iterable[Chunk], fingerprint: str = ""
) -> StyleProfile:
    """Count the house style of ``chunks`` (see the module docstring for every statistic)."""
    d = jieba_dict()
    n_chunks = 0
    doc_ids: list[str] = []
    seen_docs: set[str] = set()
    doc_headings: dict[str, dict[str, int]] = defaultdict(dict)  # doc -> heading -> level (ordered)
    doc_enums: dict[str, set[str]] = defaultdict(set)
    doc_last: dict[str, tuple[int, str]] = {}
    section_len: dict[tuple[str, tuple[str, ...]], int] = defaultdict(int)
    openers: Counter[str] = Counter()
    verbs: Counter[str] = Counter()
    sentence_lengths: Counter[int] = Counter()  # length → sentences
    docs_we: set[str] = set()
    docs_i: set[str] = set()

    # sentence- and clause-initial (word, what compose() reads of the rest) → how many
    firsts: Counter[tuple[str, str]] = Counter()
    clause_firsts: Counter[tuple[str, str]] = Counter()
    for c in chunks:
        n_chunks += 1
        if c.doc_id not in seen_docs:
            seen_docs.add(c.doc_id)
            doc_ids.append(c.doc_id)
        heads = doc_headings[c.doc_id]
        for h in c.heading_path:
            heads.setdefault(h, 0)
        inline, body = body_lines(c.text)
        for h in inline:
            heads.setdefault(h, 0)
        body_text = "\n".join(body)
        section_len[(c.doc_id, tuple(c.heading_path))] += len(body_text.replace("\n", ""))
        doc_enums[c.doc_id].update(find_enumerations(body_text))
        if WE_RE.search(body_text):
            docs_we.add(c.doc_id)
        if bare_i(body_text):
            docs_i.add(c.doc_id)
        if body and (c.doc_id not in doc_last or c.position > doc_last[c.doc_id][0]):
            doc_last[c.doc_id] = (c.position, body[-1])
        for line in body:
            for sent in split_sentences(line):
                if len(sent) < 2:
                    continue
                sentence_lengths[len(sent)] += 1
                firsts[_head_key(*first_word(sent, d), d)] += 1
                for k, clause in enumerate(CLAUSE_SPLIT_RE.split(sent)):
                    if len(clause) >= 2:
                        clause_firsts[_head_key(*first_word(clause, d, first_clause=k == 0), d)] += 1

    # verbs: plain clause heads (no adverb) seen at least 3 times make the verb set; an adverb
    # then counts the known verb after it
    # (the keys in order of first occurrence, so ties come out in the order of one list per clause)
    plain: Counter[str] = Counter()
    for (w, _r), n in clause_firsts.items():
        if w and w not in MODIFIERS:
            plain[w] += n
    verbset = {w for w, n in plain.items() if n >= 3}
    for (w, rest), n in clause_firsts.items():
        _o, verb = compose(w, rest, d, verbset)
        if verb:
            verbs[verb] += n
    for (w, rest), n in firsts.items():
        opener, _v = compose(w, rest, d, verbset)
        if opener:
            openers[opener] += n

    # headings: once per document, marker levels only
    patterns: dict[int, Counter[str]] = defaultdict(Counter)
    by_level: dict[int, list[tuple[str, str, str]]] = defaultdict(list)  # level -> (doc, text, pattern)
    for doc in doc_ids:
        for h in doc_headings[doc]:
            level, text = strip_marker(h)
            if not level or not text or text.endswith("…"):
                continue
            pat = heading_pattern(text)
            if not pat:
                continue
            patterns[level][pat] += 1
            by_level[level].append((doc, text, pat))
    headings = {lvl: patterns[lvl].most_common(TOP_PATTERNS) for lvl in sorted(patterns)}
    examples = {lvl: _pick_examples(by_level[lvl], [p for p, _ in headings[lvl]]) for lvl in headings}

    fam_docs: Counter[str] = Counter()
    for doc in doc_ids:
        fams: dict[str, set[str]] = defaultdict(set)
        for marker in doc_enums[doc]:
            fams[enum_family(marker)].add(marker)
        for fam, markers in fams.items():
            if len(markers) >= 2:
                fam_docs[fam] += 1

    frames: Counter[str] = Counter()
    for doc in doc_ids:
        if doc in doc_last:
            sents = split_sentences(doc_last[doc][1])
            frame = closing_frame(sents[-1]) if sents else ""
            if frame:
                frames[frame] += 1

    n_docs = len(doc_ids)
    return StyleProfile(
        fingerprint=fingerprint,
        docs=n_docs,
        chunks=n_chunks,
        headings=headings,
        heading_examples=examples,
        enumerations=fam_docs.most_common(),
        openers=openers.most_common(TOP_WORDS),
        verbs=verbs.most_common(TOP_WORDS),
        sentence_chars=_percentiles(sentence_lengths),
        section_chars=_percentiles(Counter(n for n in section_len.values() if n > 0)),
        closings=frames.most_common(TOP_CLOSINGS),
        first_person={
            "我们": round(len(docs_we) / n_docs, 3) if n_docs else 0.0,
            "我": round(len(docs_i) / n_docs, 3) if n_docs else 0.0,
        },
    )


def _head_key(w: str, rest: str, d: WordDict) -> tuple[str, str]:
    """A sentence head as :func:`~drafting.style_reading.compose` reads it: the word, and of the rest
    only the dictionary word at its start (``d.longest``, which gives the same word back when given
    it), and only after a modifier (``深入`` + ``推进``).  Counting these keys gives the profile that
    keeping every (word, rest) gives, in memory that grows with the vocabulary, not the corpus."""
    return w, (d.longest(rest) if rest and w in MODIFIERS else "")


def _pick_examples(items: list[tuple[str, str, str]], top: list[str]) -> list[str]:
    """Real headings for the most common patterns: one per pattern in turn (most common first),
    from a document not used yet while there is one; corpus order within a pattern."""
    queues: dict[str, list[tuple[str, str]]] = {p: [] for p in top}
    for doc, text, pat in items:
        if pat in queues and len(text) <= EXAMPLE_MAX_CHARS:
            queues[pat].append((doc, text))
    out: list[str] = []
    used_docs: set[str] = set()
    for strict in (True, False):
        progress = True
        while progress and len(out) < EXAMPLES_PER_LEVEL:
            progress = False
            for pat in top:
                q = queues[pat]
                k = next(
                    (i for i, (doc, text) in enumerate(q) if text not in out
                     and not (strict and doc in used_docs)),
                    None,
                )
                if k is None:
                    continue
                doc, text = q.pop(k)
                out.append(text)
                used_docs.add(doc)
                progress = True
                if len(out) >= EXAMPLES_PER_LEVEL:
                    break
    return out



BUREAU_RE = re.compile(r"住建|住房和城乡建设|住房城乡建设|建设局|建设和管理委员会|建设管理委|建委")


def bureau_docs(rows: Iterable[tuple[str, str, str]]) -> set[str] | None:
    """The doc_ids of the bureau's own documents when others outnumber them, else None (keep all).

    ``rows`` are (doc_id, issuer, title), one per chunk (metadata is enough: no text is needed).
    A document is the bureau's own when its issuer or title names a 住建 body (``市住建局``,
    ``…住房和城乡建设管理委员会…``).  A corpus that mixes in more government work reports than the
    bureau's own material would otherwise take their style; a few outside documents do not matter.
    """
    every: set[str] = set()
    own: set[str] = set()
    for doc_id, issuer, title in rows:
        every.add(doc_id)
        if doc_id not in own and BUREAU_RE.search(f"{issuer} {title}"):
            own.add(doc_id)
    if len(own) >= 2 and len(every) - len(own) > len(own):
        return own
    return None


def prefer_bureau(chunks: list[Chunk]) -> list[Chunk]:
    """The bureau's own documents' chunks when others outnumber them, else every chunk
    (the rule is :func:`bureau_docs`)."""
    own = bureau_docs((c.doc_id, c.issuer, c.title) for c in chunks)
    return chunks if own is None else [c for c in chunks if c.doc_id in own]

