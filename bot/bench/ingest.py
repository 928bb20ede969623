"""`paperwire bench ingest`: parse, store and index every captured source response
(Hugging Face daily papers and arXiv), repeated `k` times as new papers, then once more as
the hourly refresh sees it (nothing new)."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bot.app import build_services
from bot.bench.corpus import fixtures_dir
from bot.config import Settings
from bot.day_lists import WHOLE
from bot.errors import UserError
from bot.ingest import IngestReport, hf_rule, parse_file, store_observations
from bot.models import Observation

NOW = datetime(2026, 11, 1, tzinfo=UTC)


async def run_ingest_bench(repeat: int, as_json: bool) -> int:
    files = _fixture_files()
    with tempfile.TemporaryDirectory(prefix="paperwire-bench-") as tmp:
        settings = Settings(db_path=str(Path(tmp) / "bench.db"))
        async with build_services(settings, clock=lambda: NOW) as services:
            rule = hf_rule(settings)
            started = time.perf_counter()
            report = IngestReport()
            for copy in range(repeat):
                for kind, path in files:
                    observations = list(parse_file(path, kind, NOW).observations)
                    if copy:
                        observations = [_as_copy(o, copy) for o in observations]
                    await store_observations(
                        services, observations, rule if kind == "hf" else WHOLE, report
                    )
            await services.refresh_index()
            ingest_s = time.perf_counter() - started
            papers = report.counts.new + report.counts.updated
            started = time.perf_counter()
            refresh = IngestReport()
            for kind, path in files:
                observations = list(parse_file(path, kind, NOW).observations)
                await store_observations(services, observations, rule, refresh)
            await services.refresh_index()
            refresh_s = time.perf_counter() - started
            seen = refresh.counts.new + refresh.counts.updated + refresh.counts.unchanged
    figures = {
        "files": len(files),
        "repeat": repeat,
        "papers": papers,
        "ingest_per_s": round(papers / ingest_s),
        "refresh_per_s": round(seen / refresh_s),
    }
    if as_json:
        print(json.dumps(figures))
    else:
        print(f"paperwire bench ingest: {len(files)} captured responses x {repeat}")
        print(
            f"  ingest   {figures['ingest_per_s']:>8,} papers/s  ({papers:,} papers parsed,"
            " stored and indexed)"
        )
        print(
            f"  refresh  {figures['refresh_per_s']:>8,} papers/s  (the same lists again:"
            " nothing new, as the hourly fetch mostly sees)"
        )
    return 0


def _fixture_files() -> list[tuple[str, Path]]:
    root = fixtures_dir()
    hf = sorted((root / "hf_daily").glob("*.json"))
    atom = sorted((root / "arxiv" / "api_2016").glob("*.xml"))
    if not hf:
        raise UserError(f"no captured responses under {root}; set PAPERWIRE_FIXTURES")
    return [("hf", p) for p in hf] + [("arxiv", p) for p in atom]


def _as_copy(obs: Observation, copy: int) -> Observation:
    """The same paper as if it were another one: its own id and title."""
    arxiv_id = None
    if obs.arxiv_id and "." in obs.arxiv_id:
        arxiv_id = f"{1000 + copy:04d}.{obs.arxiv_id.split('.')[1]:0>5}"
    return replace(obs, arxiv_id=arxiv_id, title=f"{obs.title} ({copy})")
