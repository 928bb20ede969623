"""`/papers save` and `/papers saved …` as typed app commands, mapped onto the shared text
handlers (`handlers.reading`) like the rest of `/papers`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands

if TYPE_CHECKING:
    from bot.platforms.discord.client import PaperwireDiscord


def add_reading_commands(bot: PaperwireDiscord, papers: app_commands.Group) -> None:
    """`/papers save` and the `/papers saved` group, added to `papers`."""
    saved = app_commands.Group(
        name="saved", description="Your reading list (only you see it)", parent=papers
    )

    @papers.command(name="save", description="Keep a paper on your own reading list")
    @app_commands.describe(paper="An arXiv id or URL, e.g. 2509.04664")
    async def save(
        interaction: discord.Interaction, paper: app_commands.Range[str, 1, 200]
    ) -> None:
        await bot.run_command(interaction, f"save {paper}")

    @saved.command(name="list", description="Your saved papers, newest first")
    @app_commands.describe(page="Page (10 papers a page)", tag="Only papers with this tag")
    async def list_(
        interaction: discord.Interaction,
        page: app_commands.Range[int, 1, 1000] | None = None,
        tag: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        only = f"--tag {tag} " if tag else ""
        await bot.run_command(interaction, f"saved {only}{page or ''}".strip())

    @saved.command(name="remove", description="Take a paper off your list")
    @app_commands.describe(paper="Its number in your list, or its arXiv id")
    async def remove(
        interaction: discord.Interaction, paper: app_commands.Range[str, 1, 200]
    ) -> None:
        await bot.run_command(interaction, f"saved remove {paper}")

    @saved.command(name="tag", description="Tag a saved paper")
    @app_commands.describe(number="Its number in your list", tag="One word, e.g. to-read")
    async def tag(
        interaction: discord.Interaction,
        number: app_commands.Range[int, 1, 100_000],
        tag: app_commands.Range[str, 1, 40],
    ) -> None:
        await bot.run_command(interaction, f"saved tag {number} {tag}")

    @saved.command(name="search", description="Search your saved papers")
    async def search(
        interaction: discord.Interaction, words: app_commands.Range[str, 1, 200]
    ) -> None:
        await bot.run_command(interaction, f"saved search {words}")

    @saved.command(name="export", description="Your list as BibTeX or RIS")
    @app_commands.describe(tag="Only papers with this tag")
    async def export(
        interaction: discord.Interaction,
        format: Literal["bibtex", "ris"] = "bibtex",
        tag: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        only = f" --tag {tag}" if tag else ""
        await bot.run_command(interaction, f"saved export {format}{only}")
