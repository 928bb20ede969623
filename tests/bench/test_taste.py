"""`paperwire bench taste`: its figures and its table, on a small configuration."""

from __future__ import annotations

import json

import pytest

from bot.bench.taste import run_taste_bench

KEYS = {"channels", "days", "p5_trending", "p5_taste", "ratio", "trending_kept", "rank_ms_p99"}


async def test_the_bench_prints_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert await run_taste_bench(0, 2, True, days=9) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) >= KEYS
    assert figures["channels"] == 2 and figures["days"] == 9
    assert figures["p5_taste"] > figures["p5_trending"] > 0
    assert figures["trending_kept"] >= 2 and figures["rank_ms_p99"] > 0


async def test_the_bench_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert await run_taste_bench(300, 1, False, days=6) == 0
    out = capsys.readouterr().out
    assert "precision@5" in out and "ratio x" in out and "target <= 20 ms" in out
    assert "1 channels x 6 Hugging Face days" in out and "indexed papers" in out
