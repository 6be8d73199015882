"""House phrases: wording the offline engine may lend, mined from the store.

Only a phrase that occurs in at least :data:`MIN_DOCS` distinct documents of the store may be lent,
and only when it carries no fact: no digit, no masked figure, no date, ranking, claim or cited
document (as :mod:`drafting.quantities` finds them), no quotation marks or book-title marks (names
and slogans live there).  Two kinds are mined, counted by documents, not by occurrences:

* **openers** – a sentence's first clause when it is short (2–6 characters) and sets time or
  sequence: ``一年来``, ``今年以来``, ``同时``, ``此外``.  The 总述 of a 工作总结 starts with one.
* **formulas** – the verb phrase of a 总述 (``扎实推进``, ``有序推进``, ``扎实开展``) and the period
  openers (``一年来``, ``今年以来``), counted wherever they occur.  Only the phrases in
  :data:`FORMULA_CANDIDATES` and :data:`PERIOD_OPENERS` are looked for: they say nothing the writer
  did not say beyond "the work went on".

A document left out of retrieval (a case's own report in the eval) is left out of the counts too.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from drafting.quantities import extract_citations, extract_claims, extract_dates, extract_masks, extract_ranks

if TYPE_CHECKING:
    from drafting.store import CorpusStore

MIN_DOCS = 3
PERIOD_OPENERS = (
    "一年来", "今年以来", "上半年以来", "近年来", "过去一年", "年初以来", "今年上半年", "上半年",
)
FORMULA_CANDIDATES = ("扎实推进", "有序推进", "稳步推进", "深入推进", "持续推进", "全面推进", "稳妥推进",
                      "扎实开展", "深入开展", "有序开展")
_CLAUSE = re.compile(r"(?:^|[。！？；\n])\s*([^，。！？；：\n]{2,6})，")
_FACTLIKE = re.compile(r"[0-9０-９*＊“”\"《》〔〕【】（）()]")


@dataclass
class HousePhrases:
    """Phrase → the documents it occurs in."""

    docs: dict[str, set[str]] = field(default_factory=dict)

    def usable(self, phrase: str, exclude: Iterable[str] = ()) -> bool:
        return len(self.docs.get(phrase, set()) - set(exclude)) >= MIN_DOCS

    def first(self, candidates: Sequence[str], exclude: Iterable[str] = ()) -> str:
        """The first candidate that is a house phrase (in ≥3 documents besides ``exclude``), or ""."""
        ex = set(exclude)
        return next((c for c in candidates if self.usable(c, ex)), "")

    def count(self, phrase: str, exclude: Iterable[str] = ()) -> int:
        return len(self.docs.get(phrase, set()) - set(exclude))


def fact_free(phrase: str) -> bool:
    """True when ``phrase`` holds no figure, date, ranking, claim, cited document or quoted name."""
    if _FACTLIKE.search(phrase) or extract_masks(phrase):
        return False
    return not (
        extract_dates(phrase) or extract_ranks(phrase) or extract_claims(phrase) or extract_citations(phrase)
    )


def mine(rows: Iterable[tuple[str, str]]) -> HousePhrases:
    """Phrases of ``(doc_id, text)`` rows, each with the set of documents it occurs in."""
    docs: dict[str, set[str]] = defaultdict(set)
    for doc_id, text in rows:
        for m in _CLAUSE.finditer(text):
            docs[m.group(1)].add(doc_id)
        for f in (*FORMULA_CANDIDATES, *PERIOD_OPENERS):
            if f in text:
                docs[f].add(doc_id)
    return HousePhrases({p: d for p, d in docs.items() if len(d) >= MIN_DOCS and fact_free(p)})


_CACHE: dict[tuple[str, str], HousePhrases] = {}


def house_phrases(store: CorpusStore) -> HousePhrases:
    """The store's house phrases, kept in memory per store and corpus state (keyword fingerprint)."""
    if store.count() == 0:
        return HousePhrases()
    settings = store.settings
    key = (str(settings.chroma_url or settings.store_path().resolve()), store.keyword().fingerprint)
    found = _CACHE.get(key)
    if found is None:
        rows = store.iter_rows(["documents", "metadatas"])
        found = _CACHE[key] = mine((m["doc_id"], t or "") for _i, t, m in rows)
    return found
