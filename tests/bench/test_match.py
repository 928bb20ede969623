"""`paperwire bench match`: its figures and its table, on a small synthetic load."""

from __future__ import annotations

import json

import pytest

from bot.bench.match import run_match_bench


async def test_the_bench_prints_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert await run_match_bench(2000, 100, True) == 0
    figures = json.loads(capsys.readouterr().out)
    assert {"subscriptions", "papers", "matches", "seconds", "naive_seconds"} <= set(figures)
    assert figures["subscriptions"] == 2000 and figures["papers"] == 100
    assert figures["matches"] > 0 and figures["seconds"] > 0
    assert figures["naive_sampled"] is False


async def test_the_bench_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert await run_match_bench(300, 20, False) == 0
    out = capsys.readouterr().out
    assert "target <= 2 s" in out and "naive" in out and "ratio" in out
