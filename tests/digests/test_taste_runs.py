"""A channel's digest after its votes: re-ranked by its taste, with why lines, on every
backend; another channel's digest of the same day keeps the trending order."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.app import Services
from bot.delivery.outbox import OutgoingMessage, Receipt
from bot.digests.runs import run_channel_digest
from bot.digests.settings import WEEKDAYS, DigestSettings, Outcome
from bot.models import Destination, Observation
from bot.render.neutral import Digest
from bot.storage.votes import DISLIKE, LIKE
from bot.taste.loading import load_profile
from tests.taste_days import DIFFUSION, LANGUAGE, ROBOT, paper

VOTED = Destination("fake", "T1", "C1")
QUIET = Destination("fake", "T1", "C2")
DAY = date(2026, 11, 20)
DUE = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)


class Recorder:
    platform = "fake"

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    async def send(self, message: OutgoingMessage) -> Receipt:
        self.sent.append(message)
        return Receipt(ok=True, platform_ids=("m1",))


def _paper(day: date, rank: int, title: str, abstract: str) -> Observation:
    return paper(day, rank, title, abstract, DUE)


def _settings(destination: Destination, taste: bool = True) -> DigestSettings:
    return DigestSettings(
        destination, time=time(8), timezone="Europe/Paris", weekdays=WEEKDAYS, size=4, taste=taste
    )


@pytest.fixture
async def voted(services: Services) -> tuple[Services, Recorder]:
    before = DAY - timedelta(days=1)
    earlier = [
        _paper(before, 1, "Robot grasping from demonstrations", ROBOT),
        _paper(before, 2, "Tactile robot manipulation", ROBOT),
        _paper(before, 3, "Diffusion sampling in four steps", DIFFUSION),
    ]
    today = [
        *(_paper(DAY, rank, f"Instruction tuning study {rank}", LANGUAGE) for rank in (1, 2)),
        _paper(DAY, 3, "Image diffusion distilled", DIFFUSION),
        *(_paper(DAY, rank, f"Reasoning benchmark {rank}", LANGUAGE) for rank in (4, 5, 6)),
        _paper(DAY, 7, "Robot hands that feel", ROBOT),
    ]
    await services.papers.ingest([*earlier, *today], now=DUE)
    await services.refresh_index()
    pks = await services.papers.pks_for_ids([o.paper_id for o in earlier])
    robots = [pks[o.paper_id] for o in earlier[:2]]
    for pk in robots:
        await services.votes.vote(VOTED.key, pk, "U1", LIKE, DUE)
    await services.votes.vote(VOTED.key, robots[0], "U2", LIKE, DUE)
    await services.votes.vote(VOTED.key, pks[earlier[2].paper_id], "U1", DISLIKE, DUE)
    recorder = Recorder()
    services.delivery.register(recorder)
    return services, recorder


def _digest(message: OutgoingMessage) -> Digest:
    assert isinstance(message.reply.content, Digest)
    return message.reply.content


async def test_the_next_digest_after_votes_is_re_ranked(voted: tuple[Services, Recorder]) -> None:
    services, recorder = voted
    run = await run_channel_digest(services, _settings(VOTED), DUE)
    assert run is not None and run.outcome is Outcome.POSTED and run.posted == 4
    digest = _digest(recorder.sent[-1])
    titles = [p.title for p in digest.papers]
    assert titles[0] == "Robot hands that feel"  # 7th trending, liked twice over
    assert digest.reasons[0] == "like 2 papers this channel liked"
    assert "Image diffusion distilled" not in titles  # turned down, and not in the top two
    assert titles[1:3] == ["Instruction tuning study 1", "Instruction tuning study 2"]
    assert digest.reasons[1:] == (None, None, None)


async def test_another_channel_of_the_same_day_keeps_the_trending_order(
    voted: tuple[Services, Recorder],
) -> None:
    services, recorder = voted
    await run_channel_digest(services, _settings(VOTED), DUE)
    run = await run_channel_digest(services, _settings(QUIET), DUE)
    assert run is not None and run.outcome is Outcome.POSTED
    digest = _digest(recorder.sent[-1])
    assert [p.title for p in digest.papers] == [
        "Instruction tuning study 1",
        "Instruction tuning study 2",
        "Image diffusion distilled",
        "Reasoning benchmark 4",
    ]
    assert digest.reasons == ()


async def test_taste_off_keeps_the_trending_order(voted: tuple[Services, Recorder]) -> None:
    services, recorder = voted
    await run_channel_digest(services, _settings(VOTED, taste=False), DUE)
    digest = _digest(recorder.sent[-1])
    assert digest.papers[0].title == "Instruction tuning study 1" and digest.reasons == ()


async def test_the_profile_counts_votes_and_shows_words(voted: tuple[Services, Recorder]) -> None:
    services, _ = voted
    profile = await load_profile(services, VOTED.key, None)
    assert profile.votes == 4
    assert "robot" in profile.top_terms(5)
    quiet = await load_profile(services, QUIET.key, "diffusion")
    assert quiet.votes == 0 and quiet.top_terms(3) == ["diffusion"]
