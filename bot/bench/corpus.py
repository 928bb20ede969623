"""A synthetic corpus from real vocabulary: titles with a few words swapped and abstracts
made of sentences from real abstracts (the bundled seeds and, when present, the captured
Hugging Face daily papers in tests/fixtures/hf_daily)."""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.models import Observation
from bot.sources import seeds

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")
_FIRST = (
    "Wei Li Yang Zhang Chen Anna Maria John David Sarah Laura Peter Emma Lucas Noah Olivia "
    "Hiroshi Yuki Ravi Priya Sofia José Juan Ana Pierre Marie Hans Lars Ivan Olga Ahmed "
    "Fatima Omar Jin Minh Hugo Lena Erik"
).split()
_LAST = (
    "Smith Johnson Brown García Miller Davis Martínez Wang Li Zhang Liu Chen Huang Zhao Wu Xu "
    "Müller Schmidt Fischer Weber Dubois Moreau Rossi Ferrari Tanaka Suzuki Ito Kim Lee Park "
    "Kumar Sharma Singh Patel Nguyen Tran Ivanov Novak Kowalski Jensen Hansen"
).split()


@dataclass(frozen=True)
class Vocabulary:
    titles: list[str]
    sentences: list[str]
    source: str


def fixtures_dir() -> Path:
    configured = os.environ.get("PAPERWIRE_FIXTURES")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "tests" / "fixtures"


def load_vocabulary() -> Vocabulary:
    pairs: dict[str, str] = {}
    pages = seeds.read_pages(seeds.bundled_pages(), reference=date(2026, 11, 22))
    for page in pages:
        for title, abstract in page.entries:
            pairs.setdefault(title, abstract)
    source = "seeds"
    hf = fixtures_dir() / "hf_daily"
    if hf.is_dir():
        for path in sorted(hf.glob("*.json")):
            for item in json.loads(path.read_text(encoding="utf-8")):
                paper = item.get("paper") or {}
                if paper.get("title") and paper.get("summary"):
                    pairs.setdefault(
                        " ".join(paper["title"].split()), " ".join(paper["summary"].split())
                    )
        source = "seeds + hf_daily fixtures"
    sentences = [
        s for abstract in pairs.values() for s in _SENTENCE_END.split(abstract) if len(s) > 20
    ]
    return Vocabulary(list(pairs), sentences, f"{source}: {len(pairs)} papers")


def synthetic_observations(n: int, vocabulary: Vocabulary, seed: int = 42) -> Iterator[Observation]:
    """`n` papers, generated lazily and deterministically for a seed."""
    rng = random.Random(seed)
    title_words = sorted({w for t in vocabulary.titles for w in t.split() if w.isalpha()})
    names = [f"{first} {last}" for first in _FIRST for last in _LAST]
    start = date(2018, 1, 1)
    observed = datetime(2026, 11, 1, tzinfo=UTC)
    for i in range(n):
        words = rng.choice(vocabulary.titles).split()
        for _ in range(rng.randint(1, 3)):
            words[rng.randrange(len(words))] = rng.choice(title_words)
        yield Observation(
            title=" ".join(words),
            abstract=" ".join(rng.choices(vocabulary.sentences, k=rng.randint(5, 8))),
            authors=tuple(rng.choices(names, k=rng.randint(2, 6))),
            arxiv_id=f"{1000 + i // 100_000:04d}.{i % 100_000:05d}",
            published=start + timedelta(days=rng.randrange(365 * 9)),
            source="bench",
            observed_at=observed,
        )
