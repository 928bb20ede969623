from datetime import date

import pytest

from bot.models import TrendingEntry
from bot.search.matcher import matches
from bot.search.query import parse
from tests.conftest import make_paper

PAPER = make_paper(
    title="Hallucinating Transformers: Large Language Models Under Stress",
    abstract="We evaluate state-of-the-art models on reasoning benchmarks.",
    authors=("Yann LeCun", "José Núñez"),
    categories=("cs.CL", "cs.LG"),
    trending=(
        TrendingEntry(date(2026, 7, 15), "hf", 3, 5),
        TrendingEntry(date(2026, 6, 1), "hf", 9),
    ),
)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("hallucination", True),  # stemming
        ("transformer", True),
        ('"large language models"', True),
        ('"language large"', False),
        ("state-of-the-art", True),
        ("hallu*", True),
        ("transf*", True),
        ("zebra*", False),
        ("reasoning -benchmark", False),
        ("reasoning -survey", True),
        ("zebra OR reasoning", True),
        ('author:"yann lecun"', True),
        ("author:nunez", True),  # accents folded
        ('author:"lecun yann"', False),
        ("cat:cs.cl", True),
        ("cat:cs", True),
        ("cat:math.AG", False),
        ("since:2026-07-01 reasoning", True),
        ("until:2026-05-31 reasoning", False),
        ("until:2026-06-30 reasoning", True),  # any day it trended counts, not only the latest
        ("since:2026-06-02 until:2026-07-14 reasoning", False),
        ("since:2026-07-15 until:2026-07-15 reasoning", True),
        ("reasoning zebra", False),
    ],
)
def test_matching_semantics(query: str, expected: bool) -> None:
    assert matches(parse(query), PAPER) is expected
