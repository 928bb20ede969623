"""The `paperwire` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from bot import __version__
from bot.cli_help import DESCRIPTION, EPILOG, RUN_EPILOG
from bot.config import log_format_from
from bot.errors import PaperwireError, UserError
from bot.logs import configure_logging, secrets_in

_log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paperwire",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"paperwire {__version__}")
    parser.add_argument("--db", "--database", dest="db", metavar="PATH|URL", help=DB_HELP)
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    command = _adder(commands)

    command(
        "demo",
        help="ingest the bundled papers and show a digest and a search (no tokens, no network)",
    )

    ingest = command("ingest", help="add papers to the corpus")
    sources = _adder(ingest.add_subparsers(dest="source", metavar="SOURCE", required=True))
    seeds = sources("seeds", help="the bundled trending pages, or pages you give")
    seeds.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="seed pages (default: the bundled ones)"
    )
    seeds.add_argument(
        "--year", type=int, help="the pages' year (default: the latest year not in the future)"
    )
    hf = sources("hf-daily", help="Hugging Face daily papers (live, or saved files)")
    hf_from = hf.add_mutually_exclusive_group()
    hf_from.add_argument("--date", type=_iso_date, help="the day to fetch (default: today, UTC)")
    hf_from.add_argument(
        "--file",
        nargs="+",
        type=Path,
        metavar="F.json",
        help="saved API responses, each named after its day (2026-07-01.json)",
    )
    arxiv = sources("arxiv", help="arXiv: a category's recent papers, or today's RSS")
    arxiv_from = arxiv.add_mutually_exclusive_group(required=True)
    arxiv_from.add_argument("--category", help="e.g. cs.CL (the API, newest first)")
    arxiv_from.add_argument(
        "--rss", nargs="+", metavar="CATEGORY", help="today's announcements (new and cross-lists)"
    )
    arxiv_from.add_argument("--id", nargs="+", metavar="ID", help="papers by arXiv id")
    arxiv_from.add_argument(
        "--file", nargs="+", type=Path, metavar="F.xml", help="saved Atom, RSS or RDF responses"
    )
    arxiv.add_argument("--days", type=_positive, default=1, help="with --category (default 1)")
    biorxiv = sources(
        "biorxiv", help="bioRxiv or medRxiv: the last days' posts (details API), or saved pages"
    )
    biorxiv.add_argument(
        "--server", choices=("biorxiv", "medrxiv"), default="biorxiv", help="(default biorxiv)"
    )
    biorxiv_from = biorxiv.add_mutually_exclusive_group()
    biorxiv_from.add_argument(
        "--days", type=_positive, default=1, help="days back, today included (default 1)"
    )
    biorxiv_from.add_argument(
        "--file", nargs="+", type=Path, metavar="F.json", help="saved details API responses"
    )

    search = command("search", help="search the corpus")
    search.add_argument("query", nargs="+", help='words, "phrases", prefix*, -not, author:X')
    search.add_argument("--limit", type=_positive, default=10, help="results (default 10)")
    search.add_argument("--json", action="store_true", help="print a JSON array of the hits")

    digest = command("digest", help="show a day's digest as a platform would get it")
    digest.add_argument("--date", type=_iso_date, help="YYYY-MM-DD (default: latest list)")
    digest.add_argument("--limit", type=_positive, help="papers (default 10)")
    digest.add_argument("--topic", help="only papers matching this query")
    digest.add_argument(
        "--format",
        choices=("text", "slack", "discord"),
        default="text",
        help="as the terminal, Slack or Discord shows it (default text)",
    )
    digest.add_argument(
        "--channel",
        metavar="console:NAME",
        help="with --now: post that channel's digest now, with its settings (once a day)",
    )
    digest.add_argument("--now", action="store_true", help="post to --channel now")
    digest.add_argument(
        "--json",
        action="store_true",
        help="print the request bodies the bot posts, buttons and Slack's thread of abstracts"
        " included (Slack: channel as {channel}, the thread's parent as {ts})",
    )

    shell = command("shell", help="type /papers commands; reads stdin when piped")
    shell.add_argument(
        "--channel", default="shell", help="the console channel commands act on (default shell)"
    )
    command(
        "run",
        help="run the bot: scheduled ingest (and, with tokens, Slack and Discord)",
        epilog=RUN_EPILOG,
    )

    status = command("status", help="each destination: messages waiting, last error, last success")
    status.add_argument("--json", action="store_true", help="print JSON, times in ISO 8601")

    backup = command(
        "backup", help="copy the SQLite database to PATH, safely while `run` writes it"
    )
    backup.add_argument("path", type=Path, metavar="PATH", help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    restore = command(
        "restore",
        help="put a backup in place of the database (stop `run` first)",
        epilog=RESTORE_EPILOG,
    )
    restore.add_argument("path", type=Path, metavar="PATH", help="a file `backup` wrote")

    migrate = command(
        "migrate-db",
        help="copy the SQLite database (--db) into an empty PostgreSQL database",
        epilog=MIGRATE_EPILOG,
    )
    migrate.add_argument(
        "--to", required=True, metavar="URL", help="postgresql://USER@HOST/DB, holding no data"
    )

    discord_cmd = command("discord", help="Discord setup tasks")
    discord_tasks = _adder(discord_cmd.add_subparsers(dest="task", metavar="TASK", required=True))
    sync = discord_tasks(
        "sync", help="register /papers with Discord (global: up to an hour; --guild: now)"
    )
    sync.add_argument("--guild", type=int, help="a server (guild) id, for instant updates")

    bench = command("bench", help="benchmarks that print their figures")
    kinds = _adder(bench.add_subparsers(dest="bench", metavar="BENCH", required=True))
    bench_search = kinds("search", help="search latency and ingest rate")
    bench_search.add_argument(
        "--papers", type=_positive, default=100_000, help="synthetic papers (default 100000)"
    )
    bench_search.add_argument("--json", action="store_true", help=BENCH_JSON_HELP)
    bench_search.add_argument(
        "--queries", type=_positive, default=300, help="timed queries (default 300)"
    )
    bench_ingest = kinds("ingest", help="import every captured source response")
    bench_ingest.add_argument("--repeat", type=_positive, default=10, help="copies (default 10)")
    bench_ingest.add_argument("--json", action="store_true", help=BENCH_JSON_HELP)
    bench_match = kinds("match", help="match every subscription against new papers")
    bench_match.add_argument(
        "--subscriptions", type=_positive, default=100_000, help="topics (default 100000)"
    )
    bench_match.add_argument(
        "--papers", type=_positive, default=1000, help="new papers to match (default 1000)"
    )
    bench_match.add_argument("--json", action="store_true", help=BENCH_JSON_HELP)
    bench_taste = kinds("taste", help="simulated channels voting: taste-ranked digests")
    bench_taste.add_argument(
        "--papers",
        type=_non_negative,
        default=100_000,
        help="synthetic papers in the index that gives word rarity; 0: none, the days' papers"
        " alone (default 100000; the target is at 1000000)",
    )
    bench_taste.add_argument(
        "--channels", type=_positive, default=12, help="simulated channels, at most 12 (default 12)"
    )
    bench_taste.add_argument("--json", action="store_true", help=BENCH_JSON_HELP)
    bench_deliver = kinds(
        "deliver", help="a digest to N channels against fakes that enforce the rate limits"
    )
    bench_deliver.add_argument(
        "--recipients", type=_positive, default=10_000, help="channels (default 10000)"
    )
    bench_deliver.add_argument(
        "--platform",
        choices=["slack", "discord", "both"],
        default="both",
        help="which fake to deliver to (default both)",
    )
    bench_deliver.add_argument(
        "--slack-rate",
        type=_positive,
        default=50,
        help="the fake's workspace budget (each one's, with --workers), messages/s;"
        " Slack publishes none (default 50)",
    )
    bench_deliver.add_argument(
        "--discord-rate",
        type=_positive,
        default=50,
        help="Discord's global limit, requests/s (default 50)",
    )
    bench_deliver.add_argument(
        "--workers",
        type=_counts,
        metavar="N[,N...]",
        help="N processes sharing the PostgreSQL --database send to --workspaces Slack"
        " workspaces of --channels channels; 1,2,3 runs each in turn",
    )
    bench_deliver.add_argument(
        "--workspaces", type=_positive, default=100, help="with --workers (default 100)"
    )
    bench_deliver.add_argument(
        "--channels", type=_positive, default=10, help="per workspace, with --workers (default 10)"
    )
    bench_deliver.add_argument("--json", action="store_true", help=BENCH_JSON_HELP)
    return parser


MIGRATE_EPILOG = """\
Stop `paperwire run` first. The copy is consistent while it runs (one read transaction),
but what it writes after the copy began stays behind in the SQLite file.
The source is --db PATH (or PAPERWIRE_DB; default ~/.local/share/paperwire/paperwire.db),
brought to the latest schema and otherwise left as it was. The target must hold no
paperwire data: nothing is overwritten. All is copied in one transaction, and each table's
rows are counted on both sides before it commits.
Then set PAPERWIRE_DATABASE_URL and start `paperwire run`: it builds its search index from
the database (nothing to copy)."""
RESTORE_EPILOG = """\
The database it replaces is kept beside it as <db>.before-restore-<UTC time> (nothing is
overwritten); the search index beside it is removed and rebuilt at the next start.
Refused while a paperwire process has the database open or beat in the last 30 s.
PostgreSQL: use pg_dump and pg_restore (README: "Operations: running it for real")."""
DB_HELP = "an SQLite file (also PAPERWIRE_DB) or a postgresql:// URL (PAPERWIRE_DATABASE_URL)"
VERBOSE_HELP = "log what happens, libraries included"
BENCH_JSON_HELP = "print the figures as a JSON object"


def _adder(group: Any) -> Any:
    """`group.add_parser` for a (sub)command that also takes --db and -v after its name
    and shows its help as its description."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: when not given after the command, what was given before it stands.
    common.add_argument(
        "--db", "--database", dest="db", metavar="PATH|URL", default=argparse.SUPPRESS, help=DB_HELP
    )
    common.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP
    )

    def add(name: str, *, help: str, **kwargs: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = group.add_parser(
            name,
            help=help,
            description=help[:1].upper() + help[1:] + ".",
            parents=[common],
            formatter_class=argparse.RawDescriptionHelpFormatter,
            **kwargs,
        )
        return parser

    return add


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _main(argv)
        finally:
            sys.stdout.flush()  # a reader gone shows here when the output fit in the pipe
    except BrokenPipeError:
        return _reader_gone()


def _reader_gone() -> int:
    """stdout's reader went away (`paperwire status | head -1`): stop quietly, as `cat`
    does. Python flushes stdout again at exit, so it is pointed at /dev/null first."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 128 + 13  # what a shell reports for a writer stopped by SIGPIPE


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        log_format = log_format_from(os.environ)
    except UserError as exc:
        print(f"paperwire: {exc}", file=sys.stderr)
        return 2
    configure_logging(args.verbose, args.command, log_format, secrets_in(os.environ, args.db))
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return asyncio.run(_run(args))
    except UserError as exc:
        print(f"paperwire: {exc}", file=sys.stderr)
        return 2
    except PaperwireError as exc:
        print(f"paperwire: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


async def _run(args: argparse.Namespace) -> int:
    from bot import commands
    from bot.config import Settings

    settings = Settings.from_env(db=args.db)
    if args.command == "bench":
        from bot import bench

        return await bench.run(args)
    return await commands.COMMANDS[args.command](settings, args)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _counts(text: str) -> list[int]:
    """A comma-separated list of whole numbers, each at least 1."""
    return [_positive(part.strip()) for part in text.split(",")]


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-07-01") from None
