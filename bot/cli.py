"""The `paperwire` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from bot import __version__
from bot.errors import PaperwireError, UserError

_log = logging.getLogger(__name__)

DESCRIPTION = """\
paperwire brings the day's trending research papers to Slack and Discord.
With no tokens set it runs on the console: try `paperwire demo`, then `paperwire shell`."""

EPILOG = """\
environment (see the README for all of them):
  PAPERWIRE_DB                 database file (default: $XDG_DATA_HOME/paperwire/paperwire.db,
                               i.e. ~/.local/share/paperwire/paperwire.db); the search
                               index lives beside it in paperwire.db.index/
  PAPERWIRE_SOURCES            sources `run` ingests on a schedule: hf, arxiv, biorxiv
                               (default hf)
  PAPERWIRE_ARXIV_CATEGORIES   e.g. cs.CL,cs.LG for the arxiv source
  PAPERWIRE_BIORXIV_SERVERS    biorxiv, medrxiv or both for the biorxiv source (default biorxiv)
  PAPERWIRE_DIGEST_SIZE        papers per digest (default 10)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paperwire",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"paperwire {__version__}")
    parser.add_argument("--db", metavar="PATH", help="database file (also PAPERWIRE_DB)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser(
        "demo",
        help="ingest the bundled papers and show a digest and a search (no tokens, no network)",
    )

    ingest = commands.add_parser("ingest", help="add papers to the corpus")
    sources = ingest.add_subparsers(dest="source", metavar="SOURCE", required=True)
    seeds = sources.add_parser("seeds", help="the bundled trending pages, or pages you give")
    seeds.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="seed pages (default: the bundled ones)"
    )
    seeds.add_argument(
        "--year", type=int, help="the pages' year (default: the latest year not in the future)"
    )
    hf = sources.add_parser("hf-daily", help="Hugging Face daily papers (live, or saved files)")
    hf_from = hf.add_mutually_exclusive_group()
    hf_from.add_argument("--date", type=_iso_date, help="the day to fetch (default: today, UTC)")
    hf_from.add_argument(
        "--file",
        nargs="+",
        type=Path,
        metavar="F.json",
        help="saved API responses, each named after its day (2026-07-01.json)",
    )
    arxiv = sources.add_parser("arxiv", help="arXiv: a category's recent papers, or today's RSS")
    arxiv_from = arxiv.add_mutually_exclusive_group(required=True)
    arxiv_from.add_argument("--category", help="e.g. cs.CL (the API, newest first)")
    arxiv_from.add_argument(
        "--rss", nargs="+", metavar="CATEGORY", help="today's announcements (new and cross-lists)"
    )
    arxiv_from.add_argument("--id", nargs="+", metavar="ID", help="papers by arXiv id")
    arxiv_from.add_argument(
        "--file", nargs="+", type=Path, metavar="F.xml", help="saved Atom or RSS responses"
    )
    arxiv.add_argument("--days", type=_positive, default=1, help="with --category (default 1)")
    biorxiv = sources.add_parser(
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

    search = commands.add_parser("search", help="search the corpus")
    search.add_argument("query", nargs="+", help='words, "phrases", prefix*, -not, author:X')
    search.add_argument("--limit", type=_positive, default=10, help="results (default 10)")
    search.add_argument("--json", action="store_true", help="print a JSON array")

    digest = commands.add_parser("digest", help="show a day's digest as a platform would get it")
    digest.add_argument("--date", type=_iso_date, help="YYYY-MM-DD (default: latest list)")
    digest.add_argument("--limit", type=_positive, help="papers (default 10)")
    digest.add_argument("--topic", help="only papers matching this query")
    digest.add_argument("--format", choices=("text", "slack", "discord"), default="text")
    digest.add_argument(
        "--channel",
        metavar="console:NAME",
        help="with --now: post that channel's digest now, with its settings (once a day)",
    )
    digest.add_argument("--now", action="store_true", help="post to --channel now")
    digest.add_argument(
        "--json",
        action="store_true",
        help="print the request bodies that would be sent (channel as {channel})",
    )

    shell = commands.add_parser("shell", help="type /papers commands; reads stdin when piped")
    shell.add_argument(
        "--channel", default="shell", help="the console channel commands act on (default shell)"
    )
    commands.add_parser(
        "run", help="run the bot: scheduled ingest (and, with tokens, Slack and Discord)"
    )

    status = commands.add_parser(
        "status", help="each destination: messages waiting, last error, last success"
    )
    status.add_argument("--json", action="store_true")

    discord_cmd = commands.add_parser("discord", help="Discord setup tasks")
    discord_tasks = discord_cmd.add_subparsers(dest="task", metavar="TASK", required=True)
    sync = discord_tasks.add_parser(
        "sync", help="register /papers with Discord (global: up to an hour; --guild: now)"
    )
    sync.add_argument("--guild", type=int, help="a server (guild) id, for instant updates")

    bench = commands.add_parser("bench", help="benchmarks that print their figures")
    kinds = bench.add_subparsers(dest="bench", metavar="BENCH", required=True)
    bench_search = kinds.add_parser("search", help="search latency and ingest rate")
    bench_search.add_argument("--papers", type=_positive, default=100_000)
    bench_search.add_argument("--json", action="store_true")
    bench_search.add_argument(
        "--queries", type=_positive, default=300, help="timed queries (default 300)"
    )
    bench_ingest = kinds.add_parser("ingest", help="import every captured source response")
    bench_ingest.add_argument("--repeat", type=_positive, default=10, help="copies (default 10)")
    bench_ingest.add_argument("--json", action="store_true")
    bench_match = kinds.add_parser("match", help="match every subscription against new papers")
    bench_match.add_argument("--subscriptions", type=_positive, default=100_000)
    bench_match.add_argument("--papers", type=_positive, default=1000)
    bench_match.add_argument("--json", action="store_true")
    bench_deliver = kinds.add_parser(
        "deliver", help="a digest to N channels against fakes that enforce the rate limits"
    )
    bench_deliver.add_argument("--recipients", type=_positive, default=10_000)
    bench_deliver.add_argument("--platform", choices=["slack", "discord", "both"], default="both")
    bench_deliver.add_argument(
        "--slack-rate",
        type=_positive,
        default=50,
        help="the fake's workspace budget, messages/s; Slack publishes none (default 50)",
    )
    bench_deliver.add_argument(
        "--discord-rate",
        type=_positive,
        default=50,
        help="Discord's global limit, requests/s (default 50)",
    )
    bench_deliver.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        # A long-running bot logs what it does; one-off commands only what went wrong.
        level=logging.INFO if args.verbose or args.command == "run" else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
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
    handler: Any = getattr(commands, args.command)
    result: int = await handler(settings, args)
    return result


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-07-01") from None


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
