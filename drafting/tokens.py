"""Token counting with tiktoken, from the encoding file shipped inside the package.

tiktoken looks for ``sha1(url)`` in ``TIKTOKEN_CACHE_DIR`` before it downloads; we point that at
``drafting/data/tiktoken`` so nothing is fetched at run time.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import tiktoken

ENCODING = "cl100k_base"
_DATA = Path(__file__).parent / "data" / "tiktoken"


@functools.lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    previous = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(_DATA)
    try:
        return tiktoken.get_encoding(ENCODING)
    finally:
        if previous is None:
            os.environ.pop("TIKTOKEN_CACHE_DIR", None)
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = previous


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))


def count_tokens_batch(texts: list[str]) -> list[int]:
    return [len(t) for t in encoding().encode_batch(texts, disallowed_special=())]
