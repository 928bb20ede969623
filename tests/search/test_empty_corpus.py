"""A search before any paper was ingested says so, and how to get some."""

from __future__ import annotations

from bot.app import Services
from bot.render.discord import render_discord
from bot.render.slack import render_slack
from bot.render.text import render_text


async def test_search_on_an_empty_database_says_how_to_ingest(services: Services) -> None:
    page = await services.search.search("diffusion")
    assert page.corpus_empty and not page.hits
    for shown in (render_text(page), str(render_slack(page)), str(render_discord(page))):
        assert "paperwire ingest seeds" in shown and "schedule" in shown
        assert "spelling" not in shown


async def test_search_without_hits_in_a_corpus_still_suggests_other_words(
    seeded: Services,
) -> None:
    page = await seeded.search.search("qwxzv")
    assert not page.corpus_empty
    assert "check the spelling" in render_text(page)
