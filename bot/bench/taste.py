"""`paperwire bench taste`: simulated channels, each with a hidden interest, read their
taste-ranked digests over the captured Hugging Face days and vote on them; precision@5 of
their digests beside the plain trending digest's (the baseline), at N papers in the corpus."""

from __future__ import annotations

import gc
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.bench.corpus import fixtures_dir, load_vocabulary
from bot.bench.search import ingest_corpus
from bot.day_lists import WHOLE
from bot.digests.selection import select_trending
from bot.errors import UserError
from bot.ingest import parse_file
from bot.models import Paper
from bot.search.index import SearchIndex, index_path_for
from bot.search.matcher import matches
from bot.search.query import Query, parse
from bot.storage import open_storage
from bot.taste.profile import build_profile
from bot.taste.rerank import PULSE, rerank
from bot.taste.vectors import CachedFreqs, CountedFreqs, DocFreqs, vectorize

# Hidden interests: each matches some of the captured papers (2% to 33%), never most.
INTERESTS = (
    "robot*",
    "diffusion",
    "video",
    "3d OR gaussian",
    "speech OR audio",
    "reinforcement",
    "multimodal",
    "retrieval",
    "math*",
    "embodied OR navigation",
    "safety OR attack*",
    "agent*",
)
DIGEST_SIZE = 10
TOP = 5  # precision@5
WARM_UP_DAYS = 5  # days of votes before a digest counts
DISLIKES_A_DAY = 2
NOW = datetime(2026, 11, 1, tzinfo=UTC)
TARGET_RATIO = 2.0
TARGET_KEPT = 2.0
TARGET_MS = 20.0


@dataclass
class _Channel:
    interest: Query
    liked: list[Paper] = field(default_factory=list)  # newest first
    disliked: list[Paper] = field(default_factory=list)
    votes: int = 0
    sent: set[str] = field(default_factory=set)


@dataclass
class _Tally:
    digests: int = 0
    p5_trending: list[float] = field(default_factory=list)
    p5_taste: list[float] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)
    rank_ms: list[float] = field(default_factory=list)
    rank_cpu_ms: list[float] = field(default_factory=list)  # without waits for a busy CPU
    prepare_ms: list[float] = field(default_factory=list)  # a day's vectors, once a day
    trending_ms: list[float] = field(default_factory=list)


async def run_taste_bench(
    papers: int, channels: int, as_json: bool, days: int | None = None
) -> int:
    """`days`: only the last so many captured days (a quick run)."""
    log = sys.stderr
    channels = min(channels, len(INTERESTS))
    with tempfile.TemporaryDirectory(prefix="paperwire-bench-") as tmp:
        db = str(Path(tmp) / "bench.db")
        async with open_storage(db) as storage:
            index = SearchIndex.open(index_path_for(db))
            if papers:
                await ingest_corpus(storage.papers, index, papers, load_vocabulary(), log)
            for path in _fixture_days()[-(days or 0) :]:
                await storage.papers.ingest(parse_file(path, "hf", NOW).observations, WHOLE, NOW)
            await index.sync(storage.papers)
            listed = sorted(await storage.papers.trending_days())
            lists = {day: await storage.papers.trending_list(day) for day in listed}
            freqs: DocFreqs = (
                CachedFreqs(index.num_docs, index.doc_freqs_snapshot)
                if papers
                else CountedFreqs(p for papers_of_day in lists.values() for p in papers_of_day)
            )
            corpus = index.num_docs()
            print(f"  simulating {channels} channels over {len(listed)} days", file=log)
            gc.collect()
            gc.freeze()  # as the bot does once started (bot/runner.py)
            tally = simulate(lists, freqs, INTERESTS[:channels])
    figures = _figures(tally, channels, len(listed), corpus, papers)
    if as_json:
        print(json.dumps(figures))
    else:
        _print_table(figures)
    return 0


def simulate(lists: dict[date, list[Paper]], freqs: DocFreqs, interests: tuple[str, ...]) -> _Tally:
    """Every channel reads every day's digest in order and votes on it."""
    tally = _Tally()
    channels = [_Channel(parse(text)) for text in interests]
    for number, day in enumerate(sorted(lists)):
        # As the bot does when the list completes (prepare_vectors), before any digest.
        started = time.perf_counter()
        vectorize(lists[day], freqs)
        tally.prepare_ms.append((time.perf_counter() - started) * 1000)
        for channel in channels:
            started, cpu = time.perf_counter(), time.process_time()
            candidates = select_trending(
                lists[day], day, now=NOW, limit=len(lists[day]), exclude=frozenset(channel.sent)
            )
            trending_s = time.perf_counter() - started
            profile = build_profile(channel.liked, channel.disliked, freqs, votes=channel.votes)
            shown = list(rerank(candidates, profile, DIGEST_SIZE).papers)
            tally.rank_ms.append((time.perf_counter() - started) * 1000)
            tally.rank_cpu_ms.append((time.process_time() - cpu) * 1000)
            tally.trending_ms.append(trending_s * 1000)
            if not shown:
                continue
            tally.digests += 1
            if number >= WARM_UP_DAYS:
                tally.p5_trending.append(_precision(channel.interest, candidates[:TOP]))
                tally.p5_taste.append(_precision(channel.interest, shown[:TOP]))
                pulse = {p.id for p in candidates[:PULSE]}
                tally.kept.append(sum(1 for p in shown if p.id in pulse))
            _vote(channel, shown)
    return tally


def _vote(channel: _Channel, shown: list[Paper]) -> None:
    """More like this on every paper of its interest, Not for us on up to two others."""
    liked = [p for p in shown if matches(channel.interest, p)]
    disliked = [p for p in shown if not matches(channel.interest, p)][:DISLIKES_A_DAY]
    channel.liked[:0] = liked
    channel.disliked[:0] = disliked
    channel.votes += len(liked) + len(disliked)
    channel.sent.update(p.id for p in shown)


def _precision(interest: Query, papers: list[Paper]) -> float:
    return sum(1 for p in papers if matches(interest, p)) / len(papers) if papers else 0.0


def _fixture_days() -> list[Path]:
    days = sorted((fixtures_dir() / "hf_daily").glob("*.json"))
    if not days:
        raise UserError(f"no captured Hugging Face days under {fixtures_dir()}")
    return days


def _figures(tally: _Tally, channels: int, days: int, corpus: int, papers: int) -> dict[str, Any]:
    trending = statistics.fmean(tally.p5_trending) if tally.p5_trending else 0.0
    taste = statistics.fmean(tally.p5_taste) if tally.p5_taste else 0.0
    return {
        "channels": channels,
        "days": days,
        "p5_trending": round(trending, 3),
        "p5_taste": round(taste, 3),
        "ratio": round(taste / trending, 2) if trending else 0.0,
        "trending_kept": round(statistics.fmean(tally.kept), 2) if tally.kept else 0.0,
        "rank_ms_p99": round(_p99(tally.rank_ms), 2),
        "rank_cpu_ms_p99": round(_p99(tally.rank_cpu_ms), 2),
        "prepare_day_ms_p99": round(_p99(tally.prepare_ms), 2),
        "rank_ms_p50": round(statistics.median(tally.rank_ms), 2) if tally.rank_ms else 0.0,
        "trending_ms_p99": round(_p99(tally.trending_ms), 3),
        "digests": tally.digests,
        "scored_digests": len(tally.p5_taste),
        "papers": papers,
        "index_docs": corpus,
    }


def _p99(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def _print_table(f: dict[str, Any]) -> None:
    idf = f"{f['index_docs']:,} indexed papers" if f["papers"] else "no index: the days' papers"
    print(
        f"paperwire bench taste: {f['channels']} channels x {f['days']} Hugging Face days"
        f" (IDF from {idf})"
    )
    print(
        f"  precision@5  taste {f['p5_taste']:.3f}   trending {f['p5_trending']:.3f}"
        f"   ratio x{f['ratio']:.2f}   target >= x{TARGET_RATIO:g}"
    )
    print(f"  top-10 kept  {f['trending_kept']:.2f} a digest   target >= {TARGET_KEPT:g}")
    print(
        f"  ranking p99  {f['rank_ms_p99']:.2f} ms a digest (p50 {f['rank_ms_p50']:.2f};"
        f" CPU {f['rank_cpu_ms_p99']:.2f}; the day's vectors {f['prepare_day_ms_p99']:.1f}"
        " once a day);"
        f" trending order alone {f['trending_ms_p99']:.3f} ms   target <= {TARGET_MS:g} ms"
        " at 1M papers"
    )
    print(
        f"  ({f['scored_digests']} digests scored after {WARM_UP_DAYS} days of votes,"
        f" of {f['digests']})"
    )
