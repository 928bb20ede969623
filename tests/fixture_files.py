"""Where the files tests read live: `tests/fixtures/` (see its README for their origin)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
HF_DAILY = FIXTURES / "hf_daily"
ARXIV = FIXTURES / "arxiv"
BIORXIV = FIXTURES / "biorxiv"
SLACK = FIXTURES / "platform" / "slack"
SAMPLES = FIXTURES / "samples"
