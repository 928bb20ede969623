"""`paperwire bench search`: ingest rate and search latency on a synthetic corpus, beside a
naive ranked LIKE scan of the same rows (what simple paper bots do) as the baseline."""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path
from typing import Any

from bot.bench.corpus import load_vocabulary, synthetic_observations
from bot.search.analysis import words
from bot.search.index import SearchIndex, index_path_for
from bot.search.service import SearchService
from bot.storage import Papers, RawReader, open_storage

# A fixed mix of 1-, 2- and 3-term queries, very common terms included.
QUERY_MIX = (
    "model",
    "learning",
    "diffusion",
    "agent",
    "reasoning",
    "benchmark",
    "video",
    "graph",
    "robot",
    "quantization",
    "hallucination",
    "tokenizer",
    "language model",
    "reinforcement learning",
    "image generation",
    "neural network",
    "video diffusion",
    "speech recognition",
    "code generation",
    "model learning",
    "large language model",
    "vision language model",
    "retrieval augmented generation",
    "reinforcement learning agent",
    "diffusion model training",
    "multimodal reasoning benchmark",
)
BATCH = 5000
LIKE_RUNS_MAX = len(QUERY_MIX)


async def run_search_bench(papers: int, queries: int, as_json: bool) -> int:
    log = sys.stderr
    vocabulary = load_vocabulary()
    print(f"vocabulary: {vocabulary.source}, {len(vocabulary.sentences)} sentences", file=log)
    with tempfile.TemporaryDirectory(prefix="paperwire-bench-") as tmp:
        db = str(Path(tmp) / "bench.db")
        async with open_storage(db) as storage:
            index = SearchIndex.open(index_path_for(db))
            store_s, ingest_s = await ingest_corpus(storage.papers, index, papers, vocabulary, log)
            service = SearchService(storage.papers, index)
            latencies = await _time_queries(service, queries)
            like = await _time_like(storage.db, min(LIKE_RUNS_MAX, queries))
            rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            rebuild_s = await _time_rebuild(storage.papers, Path(tmp) / "rebuilt.index")
    figures: dict[str, Any] = {
        "papers": papers,
        "ingest_per_s": round(papers / ingest_s),
        "p50_ms": round(_percentile(latencies, 50), 2),
        "p99_ms": round(_percentile(latencies, 99), 2),
        "like_p50_ms": round(_percentile(like, 50), 1),
        "like_p99_ms": round(_percentile(like, 99), 1),
        "rss_mb": round(rss_mb),
        "store_per_s": round(papers / store_s),
        "index_rebuild_per_s": round(papers / rebuild_s),
        "queries": len(latencies),
        "like_queries": len(like),
    }
    if as_json:
        print(json.dumps(figures))
    else:
        _print_table(figures)
    return 0


async def ingest_corpus(
    corpus: Papers, index: SearchIndex, papers: int, vocabulary: Any, log: Any
) -> tuple[float, float]:
    """Store the corpus batch by batch while the index follows. Returns (seconds storing,
    seconds until all is stored and indexed), without the time making the papers."""
    generated = synthetic_observations(papers, vocabulary)
    stored = asyncio.Event()
    store_s = making_s = 0.0

    async def store_all() -> None:
        nonlocal store_s
        done = 0
        while True:
            made = time.perf_counter()
            batch = list(islice(generated, BATCH))
            started = time.perf_counter()
            nonlocal making_s
            making_s += started - made
            if not batch:
                break
            await corpus.ingest(batch)
            store_s += time.perf_counter() - started
            done += len(batch)
            if done % 100_000 == 0:
                print(f"  stored {done:,} papers", file=log)
        stored.set()

    started = time.perf_counter()
    await asyncio.gather(store_all(), index.sync(corpus, follow_until=stored))
    total_s = time.perf_counter() - started - making_s
    print(f"  indexed {index.num_docs():,} papers", file=log)
    return store_s, total_s


async def _time_rebuild(corpus: Papers, path: Path) -> float:
    """Seconds to build a new index from the store alone (what a damaged index costs)."""
    started = time.perf_counter()
    await SearchIndex.open(path).sync(corpus)
    return time.perf_counter() - started


async def _time_queries(service: SearchService, count: int) -> list[float]:
    for query in QUERY_MIX:  # warm up: first touches of the index files
        await service.search(query, limit=10)
    latencies = []
    for i in range(count):
        started = time.perf_counter()
        page = await service.search(QUERY_MIX[i % len(QUERY_MIX)], limit=10)
        latencies.append((time.perf_counter() - started) * 1000)
        assert page.hits, f"no hits for {page.query!r}"
    return latencies


async def _time_like(db: RawReader, count: int) -> list[float]:
    """The naive way: read every row, score with LIKE matches (title counting triple)."""
    latencies = []
    for query in QUERY_MIX[:count]:
        terms = [f"%{w}%" for w in words(query)]
        score = " + ".join("(title LIKE ?) * 3 + (abstract LIKE ?)" for _ in terms)
        where = " AND ".join("(title LIKE ? OR abstract LIKE ?)" for _ in terms)
        params = [t for t in terms for _ in (0, 1)]
        started = time.perf_counter()
        await db.fetch_raw(
            f"SELECT id, title, substr(abstract, 1, 240), {score} AS score FROM papers"
            f" WHERE {where} ORDER BY score DESC LIMIT 10",
            params + params,
        )
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def _percentile(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def _print_table(f: dict[str, Any]) -> None:
    print(f"paperwire bench search: {f['papers']:,} papers")
    print(
        f"  ingest     {f['ingest_per_s']:>10,} papers/s   (stored and indexed; storing"
        f" alone {f['store_per_s']:,}/s)   target >= 25,000"
    )
    print(f"  reindex    {f['index_rebuild_per_s']:>10,} papers/s   (a new index from the store)")
    print(
        f"  search p50 {f['p50_ms']:>10.2f} ms   LIKE scan p50 {f['like_p50_ms']:>10.1f} ms"
        f"   ratio x{f['like_p50_ms'] / max(f['p50_ms'], 1e-9):,.0f}"
    )
    print(
        f"  search p99 {f['p99_ms']:>10.2f} ms   LIKE scan p99 {f['like_p99_ms']:>10.1f} ms"
        f"   ratio x{f['like_p99_ms'] / max(f['p99_ms'], 1e-9):,.0f}   target <= 15 ms"
    )
    print(f"  peak RSS   {f['rss_mb']:>10,} MB   target <= 400 MB")
    print(
        f"  ({f['queries']} timed searches with snippets, top 10; {f['like_queries']} LIKE scans)"
    )
