"""Policy citations checked against the original in the store, on every check.

公文 cite policies all the time:
「根据《关于开展2024年本市海绵城市建设工作的函》（沪建综规〔2024〕61号）要求，
“……”」.  For each title in 《》 that names a policy document (通知, 意见, 办法, 规划, 方案, 函 …), the 文号
that follows it and the text quoted in “” in the same sentence (the lexer, :func:`extract_citations`,
finds titles and 文号):

* the cited document is looked up among the store's documents by title — exactly, or with a few
  characters missing or added (进一步, 若干, 关于), never with characters changed (another document);
* ``title``: the title is not exactly the document's: the real title is suggested;
* ``docno``: the 文号 differs from the document's own;
* ``brackets``: the 文号's year is not in 〔〕 (GB/T 9704; checked whether or not the document is held);
* ``quote``: a quote that does not appear verbatim in the original, shown beside the closest passage;
* ``absent``: the document is not in the store — said plainly, nothing guessed.

The approach follows gongwen's ``cite_check`` (billowsand/gongwen, src/agent/ops/cite_check.rs): the
same normalisation, near-title rule and closest-passage search, without its model step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drafting.quantities import extract_citations

if TYPE_CHECKING:
    from drafting.store import CorpusStore

__all__ = ["CitationFinding", "PolicyDoc", "check_citations", "find_citations", "policy_docs"]

_SUFFIXES = (
    "法", "条例", "规定", "办法", "细则", "意见", "通知", "决定", "决议", "规划", "纲要", "方案", "计划",
    "标准", "准则", "规范", "指引", "指南", "措施", "批复", "公告", "通告", "要点", "规则", "章程", "制度",
    "清单", "函",
)  # fmt: skip
_QUOTE = re.compile(r"“([^”\n]{4,200})”")
_SENTENCE_END = "。！？；\n"
# a title's trailing note: （沪建综规〔2024〕61号）, （节选：…）, （…印发，…）
_TITLE_TAIL = re.compile(r"[（(][^（）()]*(?:〔|〕|号|节选|印发|转发)[^（）()]*[）)]\s*$")
_PUNCT = set("，。、；：？！“”‘’《》（）()【】〔〕［］[]「」—…·-,.;:!?\"' \u3000\t\n")


def _norm(s: str) -> str:
    return "".join(ch for ch in s if ch not in _PUNCT)


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _title_match(cited: str, title: str) -> bool | None:
    """True: the same title; False: a few characters missing or added; None: another document."""
    a, b = _norm(cited), _norm(title)
    if a == b:
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < 4:
        return None
    limit = min(max(len(long) // 4, 2), 6)
    return False if len(long) - len(short) <= limit and _subsequence(short, long) else None


def _looks_like_policy(title: str) -> bool:
    core = re.sub(r"[（(][^（）()]*[）)]$", "", title.strip()).strip()
    return core.endswith(_SUFFIXES)


@dataclass
class PolicyDoc:
    doc_id: str
    title: str  # the full title without its trailing notes
    forms: list[str]  # the title as it may be cited: full, and without the issuing body (关于…)
    docnos: list[tuple[str, str]]  # (agency, key) e.g. ("沪建综规", "〔2024〕61号")
    written: list[str]  # the 文号 as the document writes it


def _docnos(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    out, raw = [], []
    for m in extract_citations(text):
        if m.key.startswith("《"):
            continue
        agency = re.split(r"[〔\[［【(（]", m.raw)[0].strip()
        out.append((agency, m.key))
        raw.append(m.raw)
    return out, raw


def policy_docs(store: CorpusStore) -> list[PolicyDoc]:
    """The store's documents with their citable titles and 文号, kept per store and corpus state."""
    fp = store.keyword().fingerprint
    cached = getattr(store, "_policy_docs", None)
    if cached is not None and cached[0] == fp:
        return cached[1]
    docs: dict[str, tuple[str, str]] = {}
    for _id, text, meta in store.iter_rows(["documents", "metadatas"]):
        if int(meta.get("position", 0)) == 0 or meta["doc_id"] not in docs:
            first = text if int(meta.get("position", 0)) == 0 else ""
            prev = docs.get(meta["doc_id"], ("", ""))[1]
            docs[meta["doc_id"]] = (str(meta.get("title", "")), first or prev)
    out = []
    for doc_id, (full, first) in docs.items():
        title = full.strip()
        while _TITLE_TAIL.search(title):
            title = _TITLE_TAIL.sub("", title).strip()
        forms = [title]
        if "关于" in title and not title.startswith("关于"):
            forms.append(title[title.index("关于") :])
        nos, written = _docnos(full + "\n" + (first or "")[:300])
        out.append(PolicyDoc(doc_id, title, forms, nos, written))
    store._policy_docs = (fp, out)  # type: ignore[attr-defined]  # cached on the store, keyed by fingerprint
    return out


def _full_text(store: CorpusStore, doc_id: str) -> str:
    rows = sorted(store.iter_rows(["documents", "metadatas"], where={"doc_id": doc_id}),
                  key=lambda r: int(r[2].get("position", 0)))
    return "\n".join(r[1] or "" for r in rows)


@dataclass
class CitationFinding:
    kind: str  # title | docno | brackets | quote | absent
    message: str
    raw: str
    start: int
    end: int
    suggestion: str = ""
    source_title: str = ""
    passage: str = ""

    @property
    def severity(self) -> str:
        return "提示" if self.kind == "absent" else "必查"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "text": self.raw,
            "start": self.start,
            "end": self.end,
            "suggestion": self.suggestion,
            "source_title": self.source_title,
            "passage": self.passage,
        }


@dataclass
class _Cited:
    title: str
    start: int
    end: int
    docno: tuple[str, int, int] | None  # raw, start, end
    quotes: list[tuple[str, int, int]]


def find_citations(text: str) -> list[_Cited]:
    """Policy titles in 《》, the 文号 right after each, and the quotes of the same sentence after it."""
    mentions = extract_citations(text)
    out = []
    for i, m in enumerate(mentions):
        if not m.key.startswith("《"):
            continue
        title = m.raw[1:-1]
        if not _looks_like_policy(title):
            continue
        docno = None
        nxt = mentions[i + 1] if i + 1 < len(mentions) else None
        if nxt is not None and not nxt.key.startswith("《") and nxt.start - m.end <= 2:
            docno = (nxt.raw.lstrip("（("), nxt.end - len(nxt.raw.lstrip("（(")), nxt.end)
        end = min([j for j in (text.find(ch, m.end) for ch in _SENTENCE_END) if j >= 0] or [len(text)])
        quotes = [(q.group(1), q.start(1), q.end(1)) for q in _QUOTE.finditer(text, m.end, end)]
        out.append(_Cited(title, m.start, m.end, docno, quotes))
    return out


def _closest(source: str, quote: str) -> str:
    sentences = [s.strip() for s in re.split(r"(?<=[。；！？\n])", source) if s.strip()]
    wanted = {(_norm(quote)[i : i + 2]) for i in range(len(_norm(quote)) - 1)}
    best, score = -1, 0
    for n, s in enumerate(sentences):
        ns = _norm(s)
        have = {ns[i : i + 2] for i in range(len(ns) - 1)}
        sc = len(wanted & have)
        if sc > score:
            best, score = n, sc
    return sentences[best] if best >= 0 else ""


def _fix_brackets(raw: str) -> str:
    return re.sub(r"[\[［【(（]\s*((?:19|20)[0-9]{2})\s*[\]］】)）]", r"〔\1〕", raw)


def check_citations(store: CorpusStore | None, text: str) -> list[CitationFinding]:
    """The citation findings of ``text``; [] when it cites no policy document."""
    cited = find_citations(text)
    if not cited:
        return []
    docs = policy_docs(store) if store is not None else []
    out: list[CitationFinding] = []
    for c in cited:
        exact = [(d, f) for d in docs for f in d.forms if _title_match(c.title, f) is True]
        near = ([(d, f) for d in docs for f in d.forms if _title_match(c.title, f) is False] if not exact
            else [])
        if c.docno is not None:
            raw, s, e = c.docno
            if "〔" not in raw or "〕" not in raw:
                fixed = _fix_brackets(raw)
                out.append(CitationFinding("brackets",
                                           f"文号“{raw}”的年份应使用六角括号〔〕（GB/T 9704），"
                                           f"应写作“{fixed}”。",
                                           raw, s, e, suggestion=fixed))
        if not exact and not near:
            out.append(CitationFinding(
                "absent", f"《{c.title}》不在语料库中，无法核对名称、文号和引文，请对照原件核实。",
                f"《{c.title}》", c.start, c.end,
            ))
            continue
        doc, form = (exact or near)[0]
        if not exact:
            # suggest the real title in the form the writer used (with or without the issuing body)
            form = min(doc.forms, key=lambda f: abs(len(_norm(f)) - len(_norm(c.title))))
            out.append(CitationFinding(
                "title", f"引用的名称与原文不一致，原文为《{form}》。", f"《{c.title}》", c.start, c.end,
                suggestion=f"《{form}》", source_title=doc.title,
            ))
        if c.docno is not None and doc.docnos:
            raw, s, e = c.docno
            nos, _w = _docnos(raw)
            ok = any(k == key and (agency.endswith(a) or not a) for agency, k in nos for a, key in doc.docnos)
            if not ok:
                right = doc.docnos[0][0] + doc.docnos[0][1]
                out = [f for f in out if not (f.kind == "brackets" and f.start == s)]
                out.append(CitationFinding(
                    "docno", f"文号“{raw}”与原文不符，《{doc.title}》的文号是“{right}”。", raw, s, e,
                    suggestion=right, source_title=doc.title,
                ))
        if c.quotes:
            original = _full_text(store, doc.doc_id) if store is not None else ""
            norm_original = _norm(original)
            for q, s, e in c.quotes:
                if _norm(q) in norm_original:
                    continue
                passage = _closest(original, q)
                msg = (f"引号里的“{q}”在《{doc.title}》原文中找不到原话"
                    + (f"，最接近的原文是：“{passage}”" if passage else "") + "。")
                out.append(CitationFinding("quote", msg, q, s, e, source_title=doc.title, passage=passage))
    out.sort(key=lambda f: f.start)
    return out
