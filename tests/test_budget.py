"""A budget lets a burst through, then refuses (without waiting) and says for how long;
every rate holds at once, keys are separate, and idle keys are forgotten."""

from __future__ import annotations

from datetime import timedelta

from bot.budget import HOUR, MINUTE, Budget, Budgets, Rate, in_words
from bot.models import Destination
from tests.conftest import NOW


def _take(budget: Budget, times: int, key: str = "ada", seconds: float = 0) -> list[float]:
    """The refusals' waits in seconds (0 for an allowed take)."""
    at = NOW + timedelta(seconds=seconds)
    waits = [budget.take(key, at) for _ in range(times)]
    return [(wait or timedelta(0)).total_seconds() for wait in waits]


def test_a_burst_goes_then_refusals_say_how_long() -> None:
    budget = Budget(Rate(10, MINUTE))
    assert _take(budget, 11) == [0] * 10 + [6]
    assert _take(budget, 1, seconds=3) == [3]  # a refusal spends nothing
    assert _take(budget, 2, seconds=6) == [0, 6]  # one more every 6 s
    assert _take(budget, 10, seconds=66) == [0] * 10  # after a minute, a full burst again


def test_every_rate_holds_at_once() -> None:
    budget = Budget(Rate(10, MINUTE), Rate(12, HOUR))
    assert _take(budget, 10) == [0] * 10
    # The hour's 12 are spent; its next one comes 300 s after the first (60 s ago).
    assert _take(budget, 3, seconds=60) == [0, 0, 240]
    assert _take(budget, 2, seconds=300) == [0, 300]


def test_a_clock_set_back_starts_the_budget_afresh() -> None:
    budget = Budget(Rate(10, MINUTE), Rate(60, HOUR))
    assert _take(budget, 11, seconds=3600) == [0] * 10 + [6]
    assert _take(budget, 10) == [0] * 10  # an hour earlier: not a wait of an hour


def test_keys_are_separate_and_a_zero_rate_is_no_limit() -> None:
    budget = Budget(Rate(1, MINUTE))
    assert _take(budget, 2, "ada") == [0, 60]
    assert _take(budget, 1, "bob") == [0]
    unlimited = Budget(Rate(0, MINUTE))
    assert _take(unlimited, 1000) == [0] * 1000
    assert len(unlimited) == 0


def test_idle_keys_are_forgotten_and_memory_is_bounded() -> None:
    budget = Budget(Rate(10, MINUTE), max_keys=100)
    for user in range(50):
        budget.take(f"user{user}", NOW)
    assert len(budget) == 50
    budget.take("late", NOW + MINUTE)  # the others' buckets are full again by now
    assert len(budget) == 1
    for user in range(1000):
        budget.take(f"user{user}", NOW + MINUTE)
    assert len(budget) == 100  # the least recently seen went first
    assert _take(budget, 1, "user999", seconds=60) == [0]


def test_budgets_leave_the_console_alone() -> None:
    budgets = Budgets(commands_per_minute=1, commands_per_hour=1)
    assert [budgets.command("console", "local", "ada", NOW) for _ in range(5)] == [None] * 5
    assert budgets.command("slack", "T1", "U1", NOW) is None
    assert budgets.command("slack", "T1", "U1", NOW) == timedelta(hours=1)
    assert budgets.command("slack", "T2", "U1", NOW) is None  # another workspace
    assert budgets.digest(Destination("console", "local", "shell"), NOW) is None
    assert budgets.digest(Destination("console", "local", "shell"), NOW) is None


def test_waits_in_words() -> None:
    assert in_words(timedelta(seconds=5.2)) == "6 s"
    assert in_words(timedelta(seconds=0.1)) == "1 s"
    assert in_words(timedelta(seconds=119)) == "119 s"
    assert in_words(timedelta(seconds=300)) == "5 min"
