"""Search as the bot answers it: parse, rank in the index, read the hits from the store, and
cut highlighted snippets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.errors import UserError
from bot.models import Paper, scrub_text
from bot.render.neutral import Hit, SearchPage
from bot.search.index import Mode, RawHit, SearchIndex
from bot.search.matcher import matches
from bot.search.query import Prefix, Query, Term, parse
from bot.search.snippets import Highlighter
from bot.storage import Papers

SNIPPET_CHARS = 240
MAX_LIMIT = 50
# The deepest result a page may start at. tantivy reserves room for offset + limit hits
# before it collects any, so an unchecked offset from a button sizes an allocation (10^10
# asked for 160 GB and aborted the process). 1,000 is 200 pages of 5: nobody pages further.
MAX_OFFSET = 1000
TOO_DEEP = f"Results stop at {MAX_OFFSET:,}: add words to narrow the search."
NOTHING_TO_SEARCH = (
    "There is nothing to search for in that query: give at least one word, "
    '"a phrase" or prefix* (an -exclusion alone matches nothing).'
)
PARTIAL_NOTE = "No paper has every word; showing papers with some of them."


@dataclass(frozen=True)
class _Ranked:
    hits: list[RawHit]
    papers: dict[int, Paper]
    note: str | None = None


class SearchService:
    def __init__(
        self, papers: Papers, index: SearchIndex, timed: Callable[[float], None] | None = None
    ) -> None:
        self._papers = papers
        self._index = index
        self._timed = timed  # told each search's seconds (the metrics)

    async def search(self, text: str, limit: int = 5, offset: int = 0) -> SearchPage:
        """Ranked results for raw user text; raises `UserError` for a query it cannot run."""
        started = time.perf_counter()
        try:
            return await self._search(text, limit, offset)
        finally:
            if self._timed is not None:
                self._timed(time.perf_counter() - started)

    async def _search(self, text: str, limit: int, offset: int) -> SearchPage:
        text = scrub_text(text)  # a button's value or the CLI can bring a lone surrogate
        limit = max(1, min(limit, MAX_LIMIT))
        offset = max(0, offset)
        if offset > MAX_OFFSET:
            raise UserError(TOO_DEEP)
        query = parse(text)
        if query.is_empty:
            raise UserError(NOTHING_TO_SEARCH)
        ranked = await self._rank(query, limit + 1, offset)
        highlighter = highlighter_for(query)
        hits = tuple(
            Hit(
                paper,
                raw.score,
                highlighter.whole(paper.title),
                highlighter.snippet(paper.abstract, SNIPPET_CHARS),
            )
            for raw in ranked.hits[:limit]
            if (paper := ranked.papers.get(raw.pk)) is not None
        )
        return SearchPage(
            query=text,
            hits=hits,
            offset=offset,
            # No "next page" past the bound: it would only be refused.
            has_more=len(ranked.hits) > limit and offset + limit <= MAX_OFFSET,
            note=ranked.note,
            corpus_empty=not hits and await self._papers.count_papers() == 0,
        )

    async def _rank(self, query: Query, want: int, offset: int) -> _Ranked:
        several_words = len(query.required) > 1 and all(
            isinstance(c, Term) and not c.is_phrase for c in query.required
        )
        if several_words and offset == 0:
            # Rank by any of the words, which the index prunes well. When every hit has
            # every word, these are exactly the best papers with all of them (a paper's
            # score is the same either way), and the costly conjunction is not needed.
            found = await self._fetch(query, want, 0, "any")
            if all(matches(query, paper) for paper in found.papers.values()):
                return found
        found = await self._fetch(query, want, offset, "all")
        if not found.hits and len(query.required) > 1:
            found = await self._fetch(query, want, offset, "any")
            return _Ranked(found.hits, found.papers, PARTIAL_NOTE if found.hits else None)
        return found

    async def _fetch(self, query: Query, want: int, offset: int, mode: Mode) -> _Ranked:
        hits = await asyncio.to_thread(self._index.search, query, want, offset, mode)
        return _Ranked(hits, await self._papers.papers_by_pk([h.pk for h in hits]))


def highlighter_for(query: Query) -> Highlighter:
    stems = [s for c in query.flat_required() if isinstance(c, Term) for s in c.stems]
    prefixes = [c.prefix for c in query.flat_required() if isinstance(c, Prefix)]
    return Highlighter(stems, prefixes)
