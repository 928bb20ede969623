"""When a day's trending list is complete, i.e. ready for digests.

Hugging Face's list for a day fills in over the day, so a digest that posts early posts a
short list. A list counts as complete once it stopped growing for a while (`settle`), or at
the latest at a fixed hour of the next day (UTC). Lists that arrive whole (the bundled
pages, an arXiv announcement) are complete at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta


@dataclass(frozen=True)
class ListState:
    day: date
    source: str
    size: int
    grew_at: datetime
    fetched_at: datetime
    complete_at: datetime | None = None

    @property
    def complete(self) -> bool:
        return self.complete_at is not None


@dataclass(frozen=True)
class CompletionRule:
    settle: timedelta = timedelta(hours=3)
    next_day_hour: int = 6  # UTC hour of the following day after which it is complete anyway

    def cutoff(self, day: date) -> datetime:
        return datetime.combine(day + timedelta(days=1), time(self.next_day_hour), tzinfo=UTC)

    def after_fetch(
        self, previous: ListState | None, day: date, source: str, size: int, now: datetime
    ) -> ListState:
        """The list's state after a fetch that found `size` papers at `now`."""
        grew = previous is None or size > previous.size
        state = ListState(
            day=day,
            source=source,
            size=max(size, previous.size if previous else 0),
            grew_at=now if grew or previous is None else previous.grew_at,
            fetched_at=now,
            complete_at=previous.complete_at if previous else None,
        )
        if state.complete_at is None and self._is_complete(state, now):
            state = replace(state, complete_at=now)
        return state

    def _is_complete(self, state: ListState, now: datetime) -> bool:
        settled = state.size > 0 and now - state.grew_at >= self.settle
        return settled or now >= self.cutoff(state.day)


WHOLE = CompletionRule(settle=timedelta(0))  # lists that arrive complete
