"""Chinese text handling: traditional input is normalised to simplified before we search."""

from __future__ import annotations

import functools
import unicodedata


@functools.cache
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def normalise_chinese(text: str) -> str:
    """Full-width forms folded (NFKC) and traditional characters converted to simplified (OpenCC t2s)."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        return text
    return _converter().convert(text)
