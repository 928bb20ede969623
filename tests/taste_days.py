"""Papers of robots, language models and diffusion for the taste tests, and two days of them
for the end-to-end ones: on day one a robot paper is second in the digest, on day two the only
robot paper trends last, so only a channel's "More like this" can lift it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bot.app import Services
from bot.digests.runs import run_channel_digest
from bot.digests.settings import WEEKDAYS, DigestSettings, Outcome
from bot.models import Destination, Observation, Signals
from tests.conftest import make_observation

ROBOT = "A robot arm learns grasping and manipulation from demonstrations with tactile sensing."
LANGUAGE = "A large language model is instruction tuned; we evaluate reasoning on benchmarks."
DIFFUSION = "A latent diffusion model generates images; sampling is distilled to four steps."

DAY_ONE = date(2026, 11, 20)
FIRST_MORNING = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)  # day one's list is complete
ROBOT_ONE = "Robot grasping from demonstrations"
ROBOT_TWO = "Robot hands that feel <!here> & *grip*"  # untrusted: must not ping or format
LIKED_ONE = "like 1 paper this channel liked"  # bot/taste/rerank.py's why line
SIZE = 4


def paper(day: date, rank: int, title: str, abstract: str, at: datetime) -> Observation:
    return make_observation(
        title=title,
        abstract=abstract,
        arxiv_id=f"2611.{day.day:02d}{rank:03d}",
        day=day,
        rank=rank,
        signals=Signals(upvotes=100 - rank),
        observed_at=at,
    )


def day_one(at: datetime) -> list[Observation]:
    return [
        paper(DAY_ONE, 1, "Instruction tuning study", LANGUAGE, at),
        paper(DAY_ONE, 2, ROBOT_ONE, ROBOT, at),
        paper(DAY_ONE, 3, "Diffusion sampling in four steps", DIFFUSION, at),
        paper(DAY_ONE, 4, "Reasoning benchmark", LANGUAGE, at),
    ]


def day_two(at: datetime) -> list[Observation]:
    day = DAY_ONE + timedelta(days=1)
    return [
        *(paper(day, rank, f"Instruction tuning study {rank}", LANGUAGE, at) for rank in (1, 2)),
        paper(day, 3, "Image diffusion distilled", DIFFUSION, at),
        *(paper(day, rank, f"Reasoning benchmark {rank}", LANGUAGE, at) for rank in (4, 5, 6)),
        paper(day, 7, ROBOT_TWO, ROBOT, at),
    ]


async def ingest(services: Services, observations: list[Observation]) -> None:
    """The day's list, fetched the next morning (so complete) by the services' clock."""
    await services.papers.ingest(observations, now=services.clock())
    await services.refresh_index()


async def post_digest(services: Services, destination: Destination) -> None:
    """The channel's digest of the services' clock's day, posted through its platform."""
    settings = DigestSettings(
        destination, time=time(8), timezone="UTC", weekdays=WEEKDAYS, size=SIZE
    )
    run = await run_channel_digest(services, settings, services.clock())
    assert run is not None and run.outcome is Outcome.POSTED and run.posted == SIZE
