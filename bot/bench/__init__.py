"""Benchmarks that print their figures, each beside the machine's own baseline."""

from __future__ import annotations

import argparse


async def run(args: argparse.Namespace) -> int:
    if args.bench == "search":
        from bot.bench.search import run_search_bench

        return await run_search_bench(args.papers, args.queries, args.json)
    if args.bench == "ingest":
        from bot.bench.ingest import run_ingest_bench

        return await run_ingest_bench(args.repeat, args.json)
    if args.bench == "match":
        from bot.bench.match import run_match_bench

        return await run_match_bench(args.subscriptions, args.papers, args.json)
    if args.bench == "taste":
        from bot.bench.taste import run_taste_bench

        return await run_taste_bench(args.papers, args.channels, args.json)
    if args.bench == "deliver" and args.workers:
        from bot.bench.deliver_workers import run_workers_bench

        return await run_workers_bench(
            args.db, args.workers, args.workspaces, args.channels, args.slack_rate, args.json
        )
    if args.bench == "deliver":
        from bot.bench.deliver import PLATFORMS, run_deliver_bench

        platforms = list(PLATFORMS) if args.platform == "both" else [args.platform]
        return await run_deliver_bench(
            args.recipients, platforms, args.slack_rate, args.discord_rate, args.json
        )
    raise SystemExit(f"unknown benchmark {args.bench!r}")
