from datetime import date, timedelta

from bot.digests.selection import latest_day, select_trending
from bot.models import Signals, TrendingEntry
from bot.search.query import parse
from tests.conftest import NOW, make_paper

DAY = date(2026, 7, 1)


def _paper(pid: str, rank: int, upvotes: int | None, **kw: object) -> object:
    return make_paper(
        id=pid,
        arxiv_id=pid,
        title=f"Paper {pid}",
        trending=(TrendingEntry(DAY, "hf", rank, upvotes),),
        signals=Signals(upvotes=upvotes, **kw),  # type: ignore[arg-type]
    )


def test_ranked_by_upvotes_then_comments_stars_and_list_order() -> None:
    papers = [
        _paper("a", 1, 5),
        _paper("b", 2, 50),
        _paper("c", 3, 5, comments=9),
        _paper("d", 4, None),
        _paper("e", 5, 5, comments=9, github_stars=100),
    ]
    chosen = select_trending(papers, DAY, now=NOW)  # type: ignore[arg-type]
    assert [p.id for p in chosen] == ["b", "e", "c", "a", "d"]


def test_top_n_topic_and_exclusions() -> None:
    papers = [
        make_paper(
            id=f"p{i}",
            arxiv_id=None,
            abstract="",
            title=f"Diffusion paper {i}" if i % 2 else f"Graph paper {i}",
            trending=(TrendingEntry(DAY, "seeds", i, None),),
        )
        for i in range(1, 11)
    ]
    chosen = select_trending(
        papers, DAY, now=NOW, limit=3, topic=parse("diffusion"), exclude=frozenset({"p1"})
    )
    assert [p.id for p in chosen] == ["p3", "p5", "p7"]


def test_pure_no_list_for_other_days_or_the_future() -> None:
    papers = [_paper("a", 1, 5)]
    assert select_trending(papers, DAY + timedelta(days=1), now=NOW) == []  # type: ignore[arg-type]
    early = NOW.replace(year=2026, month=6, day=30)
    assert select_trending(papers, DAY, now=early) == []  # type: ignore[arg-type]


def test_latest_day_is_not_after_now() -> None:
    days = [date(2026, 12, 1), date(2026, 11, 20), date(2026, 11, 1)]
    assert latest_day(days, NOW) == date(2026, 11, 20)
    assert latest_day([date(2027, 1, 1)], NOW) is None
