"""Text analysis shared by the index and the in-memory matcher, so both agree on what a
word is: split on anything not a letter or digit, drop very long tokens, lowercase, fold
accents, stem with the Snowball English stemmer (the one tantivy's `en_stem` uses)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

MAX_TOKEN_LEN = 40
_WORD = re.compile(r"[^\W_]+")
_stemmer = snowballstemmer.stemmer("english")


def fold(text: str) -> str:
    """Lowercase and strip accents."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Folded words of `text`, without stemming."""
    return [w for w in _WORD.findall(fold(text)) if len(w) <= MAX_TOKEN_LEN]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


def terms(text: str) -> list[str]:
    """The index terms of `text`, in order."""
    return [stem(w) for w in words(text)]
