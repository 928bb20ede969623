"""What a pressed button hands back, checked before anything uses it.

Buttons carry their state (a search page's offset, a paper's id) and the platform returns
it on each press. paperwire wrote it, but it arrives from outside like any request: a value
without the shape paperwire gives it is answered with `STALE_BUTTON`, never used.
"""

from __future__ import annotations

import re

from bot.search.service import MAX_OFFSET

STALE_BUTTON = "That button is out of date or not valid; run the command again."
# Paper ids as paperwire makes them: arXiv ids (2509.04664, astro-ph/0601001), DOIs
# (10.1101/2025.01.10.632451) or t-<hex>.
PAPER_ID = r"[A-Za-z0-9_.\-/]{1,80}"
_PAPER_ID = re.compile(PAPER_ID)


def paper_id(value: object) -> str | None:
    """`value` when it has a paper id's shape and length, else None."""
    if isinstance(value, str) and _PAPER_ID.fullmatch(value):
        return value
    return None


# A reading list's pages as buttons carry them (10 papers a page: a list of 100,000).
MAX_LIST_PAGE = 10_000


def list_page(value: object) -> int | None:
    """`value` when it is a page number from 1 to `MAX_LIST_PAGE`, else None."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_LIST_PAGE:
        return value
    return None


def search_offset(value: object) -> int | None:
    """`value` when it is a whole number of results from 0 to `MAX_OFFSET`, else None
    (not a bool, a float or a numeric string: paperwire writes plain integers)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_OFFSET:
        return value
    return None
