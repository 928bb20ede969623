from datetime import UTC, date, datetime, timedelta

from bot.app import Services
from bot.day_lists import WHOLE, CompletionRule
from bot.ingest import ingest_seeds
from tests.conftest import assert_adds_up

DAY = date(2026, 7, 1)
RULE = CompletionRule(settle=timedelta(hours=3), next_day_hour=6)


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 7, day, hour, minute, tzinfo=UTC)


def test_a_growing_list_is_not_complete_until_it_settles() -> None:
    state = RULE.after_fetch(None, DAY, "hf", 5, at(8))
    assert not state.complete and state.grew_at == at(8)
    state = RULE.after_fetch(state, DAY, "hf", 12, at(9))
    assert not state.complete and state.grew_at == at(9)
    state = RULE.after_fetch(state, DAY, "hf", 12, at(11, 59))
    assert not state.complete  # 2 h 59 min without growth
    state = RULE.after_fetch(state, DAY, "hf", 12, at(12))
    assert state.complete_at == at(12) and state.size == 12


def test_the_next_morning_makes_it_complete_anyway_even_empty() -> None:
    state = RULE.after_fetch(None, DAY, "hf", 0, at(23))
    assert not state.complete
    state = RULE.after_fetch(state, DAY, "hf", 0, at(6, day=2))
    assert state.complete and state.size == 0


def test_complete_stays_complete_and_a_shrinking_fetch_keeps_the_size() -> None:
    done = RULE.after_fetch(RULE.after_fetch(None, DAY, "hf", 9, at(1)), DAY, "hf", 9, at(5))
    assert done.complete
    later = RULE.after_fetch(done, DAY, "hf", 7, at(20))
    assert later.complete_at == done.complete_at and later.size == 9


def test_whole_lists_are_complete_at_once_when_not_empty() -> None:
    assert WHOLE.after_fetch(None, DAY, "seeds", 60, at(8)).complete
    assert not WHOLE.after_fetch(None, DAY, "arxiv", 0, at(8)).complete


async def test_seed_lists_are_recorded_complete(services: Services) -> None:
    report = await ingest_seeds(services)
    # 317 entries on 5 pages: 223 papers, and 94 entries of a paper already listed.
    assert report.line() == "223 new, 0 updated, 94 unchanged, 0 skipped, 0 errors"
    assert_adds_up(report.line(), 317)
    states = await services.day_lists.list_states()
    assert [(s.day.isoformat(), s.size) for s in states] == [
        ("2026-05-09", 60),
        ("2026-03-14", 52),
        ("2026-03-12", 60),
        ("2026-03-11", 126),
    ]
    assert all(s.complete for s in states)
    again = await services.day_lists.list_state(date(2026, 3, 11), "seeds")
    assert again == states[-1]
