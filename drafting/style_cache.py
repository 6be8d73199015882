"""The house-style profile cached in the store.

Cache (:func:`load_or_build`): ``<store>/style.json``, keyed by the corpus fingerprint (the keyword
index's hash of every chunk id), so it is rebuilt whenever a document is ingested or removed.

The chunks are read through the store's public :meth:`drafting.store.CorpusStore.chunk_ids`,
:meth:`~drafting.store.CorpusStore.iter_metadata` and :meth:`~drafting.store.CorpusStore.iter_chunks`.
A rebuild streams: one pass over the metadata decides whether only the bureau's own documents count
(:func:`~drafting.style_profile.bureau_docs`), then those chunks go one batch at a time into
:func:`~drafting.style_profile.build_profile`, never all of them in a list (issue #14: at 100× that
list was the upload's peak).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from drafting.style_profile import StyleProfile, build_profile, bureau_docs

if TYPE_CHECKING:
    from drafting.records import Chunk
    from drafting.store import CorpusStore

__all__ = ["STYLE_FILE", "corpus_fingerprint", "load_or_build", "profile_chunks"]

STYLE_FILE = "style.json"


def corpus_fingerprint(store: CorpusStore) -> str:
    """The store's keyword fingerprint, computed from the collection's chunk ids.

    The same value as ``store.keyword().fingerprint`` once the keyword index is in sync, but always
    current (another process or store object may have ingested since) and without loading BM25.
    """
    from drafting.keyword import fingerprint

    return fingerprint(store.chunk_ids())


def profile_chunks(store: CorpusStore) -> Iterator[Chunk]:
    """The chunks the profile is built from, streamed from the store: the bureau's own documents'
    when others outnumber them (:func:`~drafting.style_profile.bureau_docs`, decided from the
    metadata alone; only their chunks' text is read), else every chunk; in the store's order, as
    ``prefer_bureau(list(store.iter_chunks()))`` gives."""
    own = bureau_docs(
        (str(m["doc_id"]), str(m.get("issuer", "")), str(m.get("title", ""))) for m in store.iter_metadata()
    )
    return store.iter_chunks(None if own is None else {"doc_id": {"$in": sorted(own)}})


def load_or_build(store: CorpusStore) -> StyleProfile:
    """The store's profile, cached in ``<store>/style.json`` and rebuilt when the corpus changed.

    The cache is keyed by the corpus fingerprint (a hash of every chunk id, as the keyword index
    uses), so ingesting, updating or removing a document rebuilds it.  A cache that cannot be read
    is rebuilt; one that cannot be written is not an error.
    """
    fp = corpus_fingerprint(store)
    path = store.settings.store_path() / STYLE_FILE
    try:
        cached = StyleProfile.from_json(json.loads(path.read_text(encoding="utf-8")))
        if cached.fingerprint == fp:
            return cached
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    profile = build_profile(profile_chunks(store), fingerprint=fp)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{STYLE_FILE}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(profile.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
    return profile

