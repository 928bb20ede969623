"""How a slash command arrives: the `/papers` app command tree, each command mapped onto the
shared text handlers (`handlers.router.dispatch`) through `PaperwireDiscord.run_command`, who
asked it as a neutral `Invocation`, and the tree's error hook."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands

from bot.models import Destination
from bot.platforms.discord.reading_commands import add_reading_commands
from bot.render.limits import shorten
from handlers.context import Invocation

if TYPE_CHECKING:
    from bot.platforms.discord.client import PaperwireDiscord

CHOICE_NAME = 100  # an autocomplete choice's name (and value) at most


def command_tree(bot: PaperwireDiscord) -> app_commands.CommandTree[PaperwireDiscord]:
    """`/papers …` on `bot`, with the tree's hook for what fails outside a command's answer."""
    tree = app_commands.CommandTree(bot)
    tree.add_command(papers_commands(bot))

    async def on_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """What failed outside `PaperwireDiscord.run_command` (a command the tree does not
        know, an argument it could not convert): an apology, as for any other error."""
        if isinstance(error, app_commands.CommandInvokeError):
            error = error.original  # type: ignore[assignment]
        await bot.on_interaction_error(interaction, error)

    tree.error(on_error)
    return tree


def invocation(interaction: discord.Interaction, text: str = "") -> Invocation:
    """Who asked what, where; channel managers are those with Manage Channels there."""
    permissions = interaction.permissions
    return Invocation(
        platform="discord",
        workspace=str(interaction.guild_id or "dm"),
        channel=str(interaction.channel_id or ""),
        user=str(interaction.user.id),
        text=text,
        is_manager=bool(permissions and permissions.manage_channels),
        channel_name=str(getattr(interaction.channel, "name", None) or ""),
    )


def papers_commands(bot: PaperwireDiscord) -> app_commands.Group:
    """`/papers …` as typed app commands, each mapped onto the shared text handlers."""
    papers = app_commands.Group(name="papers", description="Trending research papers")
    digest = app_commands.Group(
        name="digest", description="This channel's daily digest (Manage Channels)", parent=papers
    )

    @papers.command(name="search", description="Search the papers, best matches first")
    @app_commands.describe(query='Words, "a phrase", prefix*, -exclude, author:"Name"')
    async def search(
        interaction: discord.Interaction, query: app_commands.Range[str, 1, 500]
    ) -> None:
        await bot.run_command(interaction, f"search {query}")

    @papers.command(name="trending", description="A day's trending papers (latest by default)")
    @app_commands.describe(date="YYYY-MM-DD")
    async def trending(interaction: discord.Interaction, date: str | None = None) -> None:
        await bot.run_command(interaction, f"trending {date or ''}".strip())

    @papers.command(name="help", description="What paperwire can do")
    async def help_(interaction: discord.Interaction) -> None:
        await bot.run_command(interaction, "help")

    @digest.command(name="on", description="Post the day's papers here every day")
    @app_commands.describe(time="HH:MM, e.g. 08:30", zone="Time zone, e.g. Europe/Paris")
    async def on(
        interaction: discord.Interaction, time: str | None = None, zone: str | None = None
    ) -> None:
        await bot.run_command(interaction, " ".join(["digest on", time or "", zone or ""]).strip())

    @digest.command(name="off", description="Stop the daily digest here")
    async def off(interaction: discord.Interaction) -> None:
        await bot.run_command(interaction, "digest off")

    @digest.command(name="status", description="Settings, next run, last post")
    async def status(interaction: discord.Interaction) -> None:
        await bot.run_command(interaction, "digest status")

    @digest.command(name="now", description="Post today's digest now")
    async def now(interaction: discord.Interaction) -> None:
        await bot.run_command(interaction, "digest now")

    @digest.command(name="set", description="Change one setting")
    @app_commands.describe(
        setting="What to change", value="e.g. 10, agents -survey, mon-fri, sun 17:00 (recap)"
    )
    async def set_(
        interaction: discord.Interaction,
        setting: Literal["size", "topic", "days", "format", "covers", "taste", "recap"],
        value: app_commands.Range[str, 1, 200],
    ) -> None:
        await bot.run_command(interaction, f"digest set {setting} {value}")

    @digest.command(name="taste", description="This channel's votes as counts, or clear them")
    @app_commands.describe(action="show (default), or reset: clear the votes (asks first)")
    async def taste(
        interaction: discord.Interaction, action: Literal["show", "reset"] = "show"
    ) -> None:
        await bot.run_command(interaction, f"digest taste {'reset' if action == 'reset' else ''}")

    @papers.command(name="forget", description="Remove your votes, topics and saved papers")
    @app_commands.describe(who="me: everything paperwire keeps about you here (asks first)")
    async def forget(interaction: discord.Interaction, who: Literal["me"] = "me") -> None:
        await bot.run_command(interaction, f"forget {who}")

    @papers.command(name="subscribe", description="A direct message with new papers on a topic")
    @app_commands.describe(topic='Words, "a phrase", prefix*, author:"Name", cat:cs.CL')
    async def subscribe(
        interaction: discord.Interaction, topic: app_commands.Range[str, 1, 200]
    ) -> None:
        await bot.run_command(interaction, f"subscribe {topic}")

    @papers.command(name="unsubscribe", description="Stop following a topic")
    @app_commands.describe(topic="One of your topics, its number, or all")
    async def unsubscribe(interaction: discord.Interaction, topic: str) -> None:
        await bot.run_command(interaction, f"unsubscribe {topic}")

    @unsubscribe.autocomplete("topic")
    async def your_topics(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Only the caller's own topics are offered. Each goes by its number, which
        `unsubscribe` takes back whole: a topic may be 200 characters, a choice's value 100."""
        owner = Destination(
            "discord", str(interaction.guild_id or "dm"), str(interaction.user.id), kind="dm"
        )
        with bot.services.requests.answering():
            topics = [s.topic for s in await bot.services.subscriptions.subscriptions(owner)]
        wanted = current.strip().casefold()
        choices = [
            app_commands.Choice(name=shorten(f"{number}. {topic}", CHOICE_NAME), value=str(number))
            for number, topic in enumerate(topics, 1)
            if wanted in topic.casefold() or wanted.lstrip("#") == str(number)
        ]
        if wanted in "all":
            choices.append(app_commands.Choice(name="all", value="all"))
        return choices[:25]

    @papers.command(name="subscriptions", description="Your topics, each with its last match")
    async def subscriptions(interaction: discord.Interaction) -> None:
        await bot.run_command(interaction, "subscriptions")

    @papers.command(name="pause", description="Pause your alerts (for some days)")
    async def pause(
        interaction: discord.Interaction, days: app_commands.Range[int, 1, 365] | None = None
    ) -> None:
        await bot.run_command(interaction, f"pause {days or ''}".strip())

    @papers.command(name="resume", description="Start your alerts again")
    async def resume(interaction: discord.Interaction) -> None:
        await bot.run_command(interaction, "resume")

    @papers.command(name="alerts", description="When your daily alert comes")
    @app_commands.describe(time="HH:MM", zone="Time zone, e.g. Europe/Paris")
    async def alerts(interaction: discord.Interaction, time: str, zone: str | None = None) -> None:
        await bot.run_command(interaction, f"alerts {time} {zone or ''}".strip())

    add_reading_commands(bot, papers)
    return papers
