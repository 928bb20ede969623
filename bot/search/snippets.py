"""Highlighted snippets: the window of an abstract with the most query matches, cut at word
boundaries, with the matching words marked. Uses the same analysis as the index."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from bot.render.neutral import Highlighted
from bot.search.analysis import MAX_TOKEN_LEN, stem

_WORD = re.compile(r"[^\W_]+")


class Highlighter:
    """Marks words whose stem is one of `stems` or that start with one of `prefixes`."""

    def __init__(self, stems: Iterable[str], prefixes: Iterable[str] = ()) -> None:
        self._stems = frozenset(stems)
        self._prefixes = tuple(prefixes)
        # Candidates are found by one C-level regex scan; only they are stemmed. A stem is
        # almost a prefix of its words (study -> studi), hence the shortened beginnings.
        starts = {s[: max(2, len(s) - 1)] for s in self._stems} | set(self._prefixes)
        alternatives = "|".join(re.escape(start) for start in sorted(starts, key=len))
        self._candidates = (
            re.compile(rf"\b(?:{alternatives})[^\W_]*", re.IGNORECASE) if starts else None
        )

    def spans(self, text: str) -> list[tuple[int, int]]:
        if self._candidates is None:
            return []
        found = []
        for match in self._candidates.finditer(text):
            word = _fold(match.group())
            if len(word) > MAX_TOKEN_LEN:
                continue
            if stem(word) in self._stems or word.startswith(self._prefixes):
                found.append(match.span())
        return found

    def whole(self, text: str) -> Highlighted:
        return Highlighted(text, tuple(self.spans(text)))

    def snippet(self, text: str, max_chars: int) -> Highlighted:
        """The best window of at most `max_chars` characters (plus ellipses)."""
        spans = self.spans(text)
        if len(text) <= max_chars:
            return Highlighted(text, tuple(spans))
        start = _best_window_start(spans, max_chars)
        # Back up to the start of the sentence when it is close, else to a word boundary.
        sentence = text.rfind(". ", max(0, start - max_chars // 3), start)
        if sentence >= 0:
            start = sentence + 2
        elif start > 0:
            start = text.rfind(" ", 0, start) + 1
        end = min(len(text), start + max_chars)
        if end < len(text):
            space = text.rfind(" ", start, end)
            end = space if space > start else end
        prefix = "… " if start > 0 else ""
        suffix = " …" if end < len(text) else ""
        shift = len(prefix) - start
        window = [(s + shift, e + shift) for s, e in spans if s >= start and e <= end]
        return Highlighted(prefix + text[start:end] + suffix, tuple(window))


def _best_window_start(spans: list[tuple[int, int]], width: int) -> int:
    """Start of the window of `width` characters covering the most spans."""
    if not spans:
        return 0
    best_start, best_count, right = spans[0][0], 0, 0
    for left in range(len(spans)):
        right = max(right, left)
        while right + 1 < len(spans) and spans[right + 1][1] - spans[left][0] <= width:
            right += 1
        if right - left + 1 > best_count:
            best_start, best_count = spans[left][0], right - left + 1
    return best_start


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
