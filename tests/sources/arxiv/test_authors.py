"""Splitting an announcement's authors from their affiliations."""

from __future__ import annotations

import pytest

from bot.sources.arxiv import split_authors


@pytest.mark.parametrize(
    ("creator", "expected"),
    [
        ("A (X, Y), B", [("A", "X, Y"), ("B", "")]),
        ("A and B", [("A", ""), ("B", "")]),
        ("A, B, and C", [("A", ""), ("B", ""), ("C", "")]),
        ("A (Dept. of Physics and Astronomy, U)", [("A", "Dept. of Physics and Astronomy, U")]),
        ("A (X) (Y)", [("A", "X; Y")]),
        ("A (unclosed, B", [("A (unclosed", ""), ("B", "")]),
        ("", []),
    ],
)
def test_authors_split_only_outside_parentheses(
    creator: str, expected: list[tuple[str, str]]
) -> None:
    assert split_authors(creator) == expected
