"""Search as the bot answers it: parse, rank in the index, read the hits from the store, and
cut highlighted snippets."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.errors import UserError
from bot.render.neutral import Hit, SearchPage
from bot.search.index import RawHit, SearchIndex
from bot.search.query import Prefix, Query, Term, parse
from bot.search.snippets import Highlighter
from bot.storage import Store

SNIPPET_CHARS = 240
MAX_LIMIT = 50
NOTHING_TO_SEARCH = (
    "There is nothing to search for in that query: give at least one word, "
    '"a phrase" or prefix* (an -exclusion alone matches nothing).'
)
PARTIAL_NOTE = "No paper has every word; showing papers with some of them."


@dataclass(frozen=True)
class _Ranked:
    hits: list[RawHit]
    total: int
    note: str | None


class SearchService:
    def __init__(self, store: Store, index: SearchIndex) -> None:
        self._store = store
        self._index = index

    async def search(self, text: str, limit: int = 5, offset: int = 0) -> SearchPage:
        """Ranked results for raw user text; raises `UserError` for a query it cannot run."""
        limit = max(1, min(limit, MAX_LIMIT))
        offset = max(0, offset)
        query = parse(text)
        if query.is_empty:
            raise UserError(NOTHING_TO_SEARCH)
        ranked = await asyncio.to_thread(self._rank, query, limit, offset)
        papers = await self._store.papers_by_pk([h.pk for h in ranked.hits])
        highlighter = highlighter_for(query)
        hits = tuple(
            Hit(
                paper,
                raw.score,
                highlighter.whole(paper.title),
                highlighter.snippet(paper.abstract, SNIPPET_CHARS),
            )
            for raw in ranked.hits
            if (paper := papers.get(raw.pk)) is not None
        )
        return SearchPage(
            query=text, hits=hits, total=ranked.total, offset=offset, note=ranked.note
        )

    def _rank(self, query: Query, limit: int, offset: int) -> _Ranked:
        all_required, note = True, None
        hits = self._index.search(query, limit + 1, offset)
        if not hits and len(query.required) > 1:
            # No paper has every word: rank papers with some of them rather than say nothing.
            all_required, note = False, PARTIAL_NOTE
            hits = self._index.search(query, limit + 1, offset, all_required=False)
        if len(hits) > limit:
            # Counting every match costs more than ranking the top ones: only when needed.
            return _Ranked(hits[:limit], self._index.count(query, all_required), note)
        return _Ranked(hits, offset + len(hits), note if hits else None)


def highlighter_for(query: Query) -> Highlighter:
    stems = [s for c in query.flat_required() if isinstance(c, Term) for s in c.stems]
    prefixes = [c.prefix for c in query.flat_required() if isinstance(c, Prefix)]
    return Highlighter(stems, prefixes)
