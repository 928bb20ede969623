"""The authors of an announcement: "A (Dept. of X, Univ. Y, City), B and C" as names and
affiliations."""

from __future__ import annotations

import re

from bot.models import clean_text


def split_authors(text: str) -> list[tuple[str, str]]:
    """(name, affiliation) for each author of "A (Dept. of X, Univ. Y, City), B and C".

    Only commas and " and " outside parentheses separate authors: the commas of an
    affiliation are part of it. Text in parentheses after a name is its affiliation ("" if
    none). Unbalanced parentheses fall back to splitting at every comma.
    """
    parts = _top_level_split(text)
    if parts is None:
        parts = text.split(",")
    authors = []
    for part in parts:
        for piece in _split_and(clean_text(part).removeprefix("and ")):
            name, affiliation = _name_and_affiliation(piece)
            if name:
                authors.append((name, affiliation))
    return authors


def _top_level_split(text: str) -> list[str] | None:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return None
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts if depth == 0 else None


def _split_and(part: str) -> list[str]:
    """ "B. Two and C. Three" is two authors; an " and " in parentheses is not a split."""
    pieces, depth, start = [], 0, 0
    for index, char in enumerate(part):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and part.startswith(" and ", index):
            pieces.append(part[start:index])
            start = index + len(" and ")
    pieces.append(part[start:])
    return [clean_text(piece) for piece in pieces if clean_text(piece)]


def _name_and_affiliation(piece: str) -> tuple[str, str]:
    """ "M. R. Nirmal (Dept. of Chemistry, IIT Madras)" -> ("M. R. Nirmal", "Dept. of ...").
    Several parenthesised groups are joined with "; "."""
    cut = piece.find("(")
    if cut < 0:
        return piece, ""
    groups = re.findall(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)", piece[cut:])
    if not groups:  # an unclosed parenthesis: no affiliation to tell apart
        return piece, ""
    return clean_text(piece[:cut]), "; ".join(clean_text(g) for g in groups if g.strip())
