"""`/papers help`: what every subcommand does."""

from __future__ import annotations

from bot.render.neutral import Help, HelpTopic, Reply
from handlers.context import Context

TOPICS = (
    HelpTopic("/papers search <query>", "Search the corpus, best matches first."),
    HelpTopic("/papers trending [YYYY-MM-DD]", "The day's trending papers (latest by default)."),
    HelpTopic("/papers subscribe <topic>", "A direct message with new papers on a topic."),
    HelpTopic("/papers unsubscribe <number|topic|all>", "Stop following a topic (or all)."),
    HelpTopic("/papers subscriptions", "Your topics, each with its last match."),
    HelpTopic("/papers pause [days] | resume", "Pause your alerts, or start them again."),
    HelpTopic("/papers alerts HH:MM [Zone]", "When your daily alert comes."),
    HelpTopic(
        "/papers digest on [HH:MM] [Zone] | off | status | now",
        "This channel's daily digest (channel managers).",
    ),
    HelpTopic(
        "/papers digest set size|topic|days|format|covers|taste …",
        "Papers per digest, a topic query, weekdays (mon-fri), compact or full, taste on|off.",
    ),
    HelpTopic(
        "/papers digest taste [reset]",
        "The channel's votes as counts (never who), or clear them (asks first).",
    ),
    HelpTopic(
        "/papers digest set recap <day> [HH:MM] | off",
        "The channel's week in papers, with a chart, once a week.",
    ),
    HelpTopic("/papers save <arXiv id or URL>", "Keep a paper on your own reading list."),
    HelpTopic(
        "/papers saved [page] | --tag <tag> | search <words>",
        "Your reading list, newest first (only you see it).",
    ),
    HelpTopic(
        "/papers saved remove <n|id> | tag <n> <tag>", "Take a paper off your list, or tag it."
    ),
    HelpTopic(
        "/papers saved export [bibtex|ris] [--tag <tag>]",
        "Your list as a file, for Zotero or BibTeX.",
    ),
    HelpTopic(
        "/papers forget me",
        "Remove your votes, topics, alert settings and reading list here (asks first).",
    ),
    HelpTopic("/papers help", "This help."),
)
QUERY_HELP = (
    'Search language: words (all must match, stemmed), "a phrase", prefix*, -exclude, '
    'a OR b, author:"Name", cat:cs.CL, since:2026-07-01, until:2026-07-31.'
)


def help_reply(error: str | None = None) -> Reply:
    return Reply(
        Help(title="paperwire: trending papers", topics=TOPICS, footer=QUERY_HELP, error=error)
    )


async def show_help(ctx: Context, args: str) -> Reply:
    return help_reply()
