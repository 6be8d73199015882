"""House style: the public names of the style modules, for callers that want one import.

* :mod:`drafting.style_reading` – how a sentence's head word, a heading's pattern and a closing
  formula are read (shared by mining and scoring);
* :mod:`drafting.style_profile` – :class:`StyleProfile` and :func:`build_profile` (profile mining);
* :mod:`drafting.style_cache` – :func:`load_or_build`: the profile cached in ``<store>/style.json``;
* :mod:`drafting.style_score` – :func:`conformance`: a draft's score against the profile.
"""

from __future__ import annotations

from drafting.style_cache import corpus_fingerprint, load_or_build
from drafting.style_profile import StyleProfile, build_profile, prefer_bureau
from drafting.style_reading import closing_frame, heading_pattern
from drafting.style_score import Conformance, conformance

__all__ = [
    "Conformance",
    "StyleProfile",
    "build_profile",
    "closing_frame",
    "conformance",
    "corpus_fingerprint",
    "heading_pattern",
    "load_or_build",
    "prefer_bureau",
]
