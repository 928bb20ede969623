"""What each `paperwire` CLI command does (parsing lives in `bot.cli`)."""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

from bot.app import build_services
from bot.config import Settings
from bot.digests.build import build_digest
from bot.digests.settings import EXPLANATIONS, Outcome
from bot.errors import UserError
from bot.ingest import (
    ingest_arxiv_category,
    ingest_arxiv_ids,
    ingest_arxiv_rss,
    ingest_biorxiv,
    ingest_files,
    ingest_hf_day,
    ingest_seeds,
)
from bot.models import Destination
from bot.render.neutral import Digest, SearchPage
from bot.render.text import print_json, render_text, wants_color
from bot.wording import plural

CHANNEL_PLACEHOLDER = "{channel}"
THREAD_PLACEHOLDER = "{ts}"  # the `ts` Slack answered for the digest's first message
DEMO_QUERY = '"language model" reasoning'


async def demo(settings: Settings, args: argparse.Namespace) -> int:
    out = sys.stdout
    out.write(
        f"paperwire demo: loading the bundled trending pages into {settings.database_label}\n"
    )
    out.flush()
    async with build_services(settings) as services:
        report = await ingest_seeds(services)
        total = await services.papers.count_papers()
        out.write(f"{report.line()}; {plural(total, 'paper')} in the corpus.\n\n")
        digest = await build_digest(
            services.papers, now=services.clock(), limit=settings.digest_size
        )
        color = wants_color(out)
        out.write(render_text(digest, color=color).rstrip() + "\n\n")
        out.write(f"Sample search: /papers search {DEMO_QUERY}\n\n")
        page = await services.search.search(DEMO_QUERY, limit=3)
        out.write(render_text(page, color=color).rstrip() + "\n\n")
    out.write(NEXT_STEPS.format(paperwire=invoked_as()))
    return 0


NEXT_STEPS = """\
Next steps
  • Try commands yourself:    {paperwire} shell   (then /papers help)
  • Search from the CLI:      {paperwire} search diffusion --limit 5
  • See what Slack would get: {paperwire} digest --format slack --json
  • Connect Slack:   create the app from slack-app-manifest.yml, then set SLACK_BOT_TOKEN and
                     SLACK_SIGNING_SECRET (README: "Run on Slack").
  • Connect Discord: create a bot, invite it, then set DISCORD_BOT_TOKEN
                     (README: "Run on Discord"), or just DISCORD_WEBHOOK_URL for digests.
"""


def invoked_as(argv0: str | None = None, executable: str | None = None) -> str:
    """paperwire as the user can run it again from here: `paperwire` when that is on PATH,
    else the path they used (`.venv/bin/paperwire`), or `<python> -m bot`."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    if Path(argv0).name == "__main__.py":
        return f"{_runnable(executable or sys.executable)} -m bot"
    return _runnable(argv0)


def _runnable(path: str) -> str:
    name = Path(path).name
    found = shutil.which(name)
    if found and Path(path).exists() and Path(found).samefile(path):
        return name
    shown = path
    if Path(path).is_absolute():
        # Under the current directory, shorter as a relative path (`.venv/bin/paperwire`).
        with contextlib.suppress(ValueError):
            shown = str(Path(path).relative_to(Path.cwd()))
    return shown if "/" in shown else f"./{shown}"


async def ingest(settings: Settings, args: argparse.Namespace) -> int:
    """Prints one summary line; exits 1 when any part failed (the rest is kept)."""
    progress = TerminalProgress(sys.stderr)
    async with build_services(settings) as services:
        if args.source == "seeds":
            report = await ingest_seeds(services, args.paths, args.year)
        elif args.source == "hf-daily" and args.file:
            report = await ingest_files(services, args.file, "hf", progress)
        elif args.source == "hf-daily":
            day = args.date or services.clock().date()
            progress(f"fetching Hugging Face daily papers for {day}")
            report = await ingest_hf_day(services, services.http, day)
        elif args.source == "biorxiv" and args.file:
            report = await ingest_files(services, args.file, args.server, progress)
        elif args.source == "biorxiv":
            progress(f"fetching {args.server} posts of the last {args.days} days")
            report = await ingest_biorxiv(services, services.http, args.server, args.days)
        elif args.file:
            report = await ingest_files(services, args.file, "arxiv", progress)
        elif args.id:
            progress(f"fetching {plural(len(args.id), 'paper')} from arXiv")
            report = await ingest_arxiv_ids(services, services.http, args.id)
        elif args.rss:
            progress(f"fetching the arXiv announcements of {'+'.join(args.rss)}")
            report = await ingest_arxiv_rss(services, services.http, args.rss)
        else:
            progress(f"fetching {args.category} from arXiv ({plural(args.days, 'day')})")
            report = await ingest_arxiv_category(services, services.http, args.category, args.days)
    progress.done()
    for error in report.errors:
        print(f"paperwire: {error}", file=sys.stderr)
    print(report.line())
    return 1 if report.errors else 0


class TerminalProgress:
    """Rewrites one status line on a terminal; silent when output is not a terminal."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._shown = False

    def __call__(self, text: str) -> None:
        if self._out.isatty():
            self._out.write(f"\r\033[K{text[:100]}")
            self._out.flush()
            self._shown = True

    def done(self) -> None:
        if self._shown:
            self._out.write("\r\033[K")
            self._out.flush()


async def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.runner import leave, run_bot

    await run_bot(settings)
    leave(0)


async def search(settings: Settings, args: argparse.Namespace) -> int:
    text = " ".join(args.query)
    async with build_services(settings) as services:
        page = await services.search.search(text, limit=args.limit)
    if args.json:
        print_json([_hit_json(page, i) for i in range(len(page.hits))])
    else:
        print(render_text(page, color=wants_color(sys.stdout)).rstrip())
    return 0


async def digest(settings: Settings, args: argparse.Namespace) -> int:
    if args.now or args.channel:
        return await post_digest_now(settings, args)
    async with build_services(settings) as services:
        result = await build_digest(
            services.papers,
            now=services.clock(),
            day=args.date,
            limit=args.limit or settings.digest_size,
            topic=args.topic,
        )
    if args.json or args.format != "text":
        print_json(request_bodies(result, args.format))
    else:
        print(render_text(result, color=wants_color(sys.stdout)).rstrip())
    return 0


async def post_digest_now(settings: Settings, args: argparse.Namespace) -> int:
    """`--channel console:NAME --now`: that channel's digest, now, with its settings."""
    from bot.digests.runs import run_channel_digest
    from bot.digests.settings import DigestSettings
    from bot.platforms.console import ConsoleTransport

    if not (args.now and args.channel):
        raise UserError("Use --channel console:NAME together with --now.")
    platform, _, name = args.channel.partition(":")
    if platform != "console" or not name:
        raise UserError(
            f"{args.channel[:40]!r}: the CLI posts to console channels, e.g. console:general."
        )
    _check_console_channel(name)
    async with build_services(settings) as services:
        services.delivery.register(ConsoleTransport(sys.stdout))
        where = Destination("console", "local", name)
        chosen = await services.digests.channel_digest(where.key) or DigestSettings(
            where, enabled=False, size=args.limit or settings.digest_size, topic=args.topic
        )
        run = await run_channel_digest(services, chosen, services.clock())
    if run is None:
        print(f"The digest of {args.channel} was already posted today (at most one a day).")
    elif run.outcome is not Outcome.POSTED:
        print(f"Nothing posted to {args.channel}: {EXPLANATIONS[run.outcome]}.")
    return 0


def request_bodies(result: Digest, platform: str) -> list[dict[str, Any]]:
    """The bodies a digest is posted as, buttons included, built by the functions the
    adapters post with: Slack `chat.postMessage` (the channel as a placeholder; the
    abstracts in the first message's thread, its `ts` as a placeholder) or Discord
    create-message (the channel is in the URL path)."""
    if platform == "discord":
        from bot.platforms.discord import digest_bodies

        return digest_bodies(result)
    if platform == "slack":
        from bot.render.slack import POST_OPTIONS, render_slack_post

        messages, thread = render_slack_post(result)
        where = {"channel": CHANNEL_PLACEHOLDER}
        replies = {**where, "thread_ts": THREAD_PLACEHOLDER}
        return [{**where, **body, **POST_OPTIONS} for body in messages] + [
            {**replies, **body, **POST_OPTIONS} for body in thread
        ]
    return [{"channel": CHANNEL_PLACEHOLDER, "text": render_text(result)}]


async def shell(settings: Settings, args: argparse.Namespace) -> int:
    from bot.platforms.console import run_shell

    _check_console_channel(args.channel)
    async with build_services(settings) as services:
        await run_shell(
            services, sys.stdin, sys.stdout, interactive=sys.stdin.isatty(), channel=args.channel
        )
    return 0


def _check_console_channel(name: str) -> None:
    """Console channel names are plain words: `!` and `@` have meanings in destination keys."""
    if not re.fullmatch(r"[\w.\-]{1,80}", name):
        raise UserError(
            f"{name[:40]!r} is not a console channel name: use letters, digits, '.', '-', '_'."
        )


def _hit_json(page: SearchPage, i: int) -> dict[str, Any]:
    hit = page.hits[i]
    paper = hit.paper
    return {
        "rank": page.offset + i + 1,
        "id": paper.id,
        "title": paper.title,
        "url": paper.url,
        "score": round(hit.score, 4),
        "snippet": hit.snippet.text,
        "highlights": [list(span) for span in hit.snippet.spans],
        "authors": list(paper.authors),
        "days": sorted({e.day.isoformat() for e in paper.trending}, reverse=True),
        "upvotes": paper.signals.upvotes,
        "code": paper.code_url,
    }


async def discord(settings: Settings, args: argparse.Namespace) -> int:
    """`paperwire discord sync [--guild ID]`."""
    from bot.platforms.discord import DiscordConfig, PaperwireDiscord

    config = DiscordConfig.from_env()
    if config is None or config.bot_token is None:
        raise UserError("Set DISCORD_BOT_TOKEN to register the commands.")
    with config.endpoints():
        async with build_services(settings) as services:
            client = PaperwireDiscord(services)
            try:
                await client.login(config.bot_token)
                count = await client.sync_commands(args.guild)
            finally:
                await client.close()
    where = f"in server {args.guild} (now)" if args.guild else "globally (up to an hour)"
    print(f"{plural(count, 'command')} registered {where}.")
    return 0


async def migrate_db(settings: Settings, args: argparse.Namespace) -> int:
    """`paperwire migrate-db --to URL`: the SQLite deployment into an empty PostgreSQL."""
    from bot.storage.migrate_db import copy_to_postgres  # psycopg only when it is used

    progress = TerminalProgress(sys.stderr)
    try:
        report = await copy_to_postgres(settings.db_path, args.to, progress)
    finally:
        progress.done()
    print("\n".join(report.lines(paperwire=invoked_as())))
    return 0


async def backup(settings: Settings, args: argparse.Namespace) -> int:
    """`paperwire backup PATH [--force]`: one line, the backup's papers, size and path."""
    from bot.storage.backup import back_up

    print((await back_up(settings.db_path, args.path, args.force)).line())
    return 0


async def restore(settings: Settings, args: argparse.Namespace) -> int:
    """`paperwire restore PATH`: what it did and what to do next."""
    from datetime import UTC, datetime

    from bot.storage.backup import restore as put_back

    now = datetime.now(UTC)
    report = await put_back(settings.db_path, args.path, now, settings.own_data_folder)
    print("\n".join(report.lines(paperwire=invoked_as())))
    return 0


async def status(settings: Settings, args: argparse.Namespace) -> int:
    from bot.status import print_status  # the status report has a module of its own

    return await print_status(settings, as_json=args.json)


Command = Callable[[Settings, argparse.Namespace], Awaitable[int]]
# What each `paperwire` subcommand runs (`bench` has its own table in `bot.bench`).
COMMANDS: dict[str, Command] = {
    "demo": demo,
    "ingest": ingest,
    "run": run,
    "search": search,
    "digest": digest,
    "shell": shell,
    "discord": discord,
    "status": status,
    "migrate-db": migrate_db,
    "backup": backup,
    "restore": restore,
}
