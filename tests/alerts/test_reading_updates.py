"""A saved paper's news in its savers' daily alert, end to end on every backend: arXiv's
real Atom (v1, then v2 with its DOI and journal reference) served by the local fake, the
save command, the ingest that records the change, and the alert that tells it once."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest

from bot.alerts.send import send_alert
from bot.alerts.topics import AlertSettings
from bot.app import Services, build_services
from bot.delivery.outbox import OutgoingMessage, Receipt
from bot.digests.settings import DigestRun, Outcome
from bot.errors import PaperwireError
from bot.ingest import ingest_arxiv_ids
from bot.models import Destination
from bot.platforms.console import ConsoleTransport
from bot.render.neutral import Notice, TopicAlert
from handlers.context import Context, Invocation
from handlers.router import dispatch
from schedules.alerts import AlertJobs, job_id
from schedules.scheduler import Scheduler
from tests.conftest import NOW, Clock
from tests.fixture_files import ARXIV
from tests.sources.fake_sources import FakeSources, running_fake_sources, settings_for

ADA = Destination("console", "local", "ada", kind="dm")
BOB = Destination("console", "local", "bob", kind="dm")
PAPER = "1111.2011"
TITLE = "Quantum Criticality for Extended Nodes on a Bethe Lattice"
DOI = "10.1103/PhysRevB.85.115117"
JOURNAL = "Phys. Rev. B 85, 115117 (2012)"
# arXiv's real answer for 1111.2011v2 (2016): the version with its DOI and journal reference.
V2 = (ARXIV / "api_2016" / "id_list_1111.2011v2.xml").read_text(encoding="utf-8")
# The same entry as v1 was served: no DOI, no journal reference yet.
V1 = "\n".join(
    line.replace("1111.2011v2", "1111.2011v1")
    for line in V2.splitlines()
    if "arxiv:doi" not in line and 'title="doi"' not in line and "journal_ref" not in line
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSources]:
    async with running_fake_sources() as running:
        yield running


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def services(fake: FakeSources, clock: Clock, database: str) -> AsyncIterator[Services]:
    async with build_services(settings_for(fake, db_path=database), clock=clock) as built:
        yield built


async def ask(services: Services, text: str, user: str) -> str:
    invocation = Invocation("console", "local", "shell", user, text)
    reply = await dispatch(Context(invocation, services, services.clock()))
    assert isinstance(reply.content, Notice)
    return reply.content.text


async def posted(services: Services, fake: FakeSources, feed: str) -> None:
    """arXiv now serves `feed` for the paper; the ingest by id (as the schedule runs it)."""
    fake.add_arxiv_feed(feed.encode("utf-8"))
    await ingest_arxiv_ids(services, services.http, [PAPER])


async def alert(services: Services, user: Destination) -> DigestRun | None:
    return await send_alert(services, AlertSettings(user), services.clock())


async def changes(services: Services) -> int:
    [(count,)] = await services.db.fetch_raw("SELECT count(*) FROM paper_changes")
    return int(count)


async def test_a_new_version_is_told_to_its_saver_once(
    services: Services, fake: FakeSources, clock: Clock
) -> None:
    out = io.StringIO()
    services.delivery.register(ConsoleTransport(out))
    await posted(services, fake, V1)
    assert "Saved “Quantum Criticality" in await ask(services, f"save {PAPER}", "ada")
    paper = await services.papers.paper_by_id(PAPER)
    assert paper is not None and (paper.version, paper.doi, paper.journal_ref) == (1, None, None)
    clock.advance(hours=1)
    await posted(services, fake, V1)  # the same version again: nothing to tell
    assert await changes(services) == 0

    clock.advance(hours=1)
    await posted(services, fake, V2)
    assert await changes(services) == 3  # v2, its journal reference, its DOI
    await posted(services, fake, V2)  # seen again: recorded once
    assert await changes(services) == 3
    # Ada follows no topic: her job is there for her list's news.
    scheduler = Scheduler()
    jobs = AlertJobs(scheduler, services)
    assert await jobs.load() == [job_id(ADA)]

    run = await alert(services, ADA)
    assert run is not None and run.outcome is Outcome.POSTED and run.posted == 0
    text = out.getvalue()
    assert "── direct message to ada ──" in text and "3 updates to your reading list" in text
    assert f"- {TITLE} in the Large Connectivity Limit — v2 posted" in text
    assert f"— published in {JOURNAL}" in text and f"— DOI {DOI}" in text
    assert "https://arxiv.org/abs/1111.2011" in text
    # The next day's alert has nothing to tell her; Bob, who saved nothing, never hears.
    clock.advance(days=1)
    again = await alert(services, ADA)
    assert again is not None and again.outcome is Outcome.NO_MATCH
    bob = await alert(services, BOB)
    assert bob is not None and bob.outcome is Outcome.NO_MATCH
    assert out.getvalue() == text
    # Nothing left to tell and no topic: her job goes at its next run.
    assert await jobs.load() == []
    assert await jobs.run_scheduled(ADA.key) is None
    assert job_id(ADA) not in scheduler.job_ids()


async def test_an_alert_that_could_not_be_queued_tells_nothing(
    services: Services, fake: FakeSources, clock: Clock
) -> None:
    await posted(services, fake, V1)
    await ask(services, f"save {PAPER}", "ada")
    clock.advance(hours=1)
    await posted(services, fake, V2)
    # No way to send yet (its platform is not connected): the alert fails before the
    # outbox takes it, and the changes stay untold.
    with pytest.raises(PaperwireError, match="no transport"):
        await alert(services, ADA)
    assert len(await services.saved_papers.pending_changes(ADA)) == 3

    class Failing:
        """A platform that refuses this send; the outbox keeps it for a retry."""

        platform = "console"

        def __init__(self) -> None:
            self.sent: list[OutgoingMessage] = []

        async def send(self, message: OutgoingMessage) -> Receipt:
            self.sent.append(message)
            return Receipt(ok=False, error="503 from the platform")

    failing = Failing()
    services.delivery.register(failing)
    clock.advance(days=1)
    run = await alert(services, ADA)
    # Queued (kept for its retry, with the news in it): told, so never a second time.
    assert run is not None and run.outcome is Outcome.QUEUED
    [message] = failing.sent
    assert isinstance(message.reply.content, TopicAlert)
    assert [u.kind for u in message.reply.content.updates] == ["version", "journal_ref", "doi"]
    assert await services.saved_papers.pending_changes(ADA) == []
    clock.advance(days=1)
    later = await alert(services, ADA)
    assert later is not None and later.outcome is Outcome.NO_MATCH
    assert len(failing.sent) == 1  # the retry belongs to the outbox, not to a new alert


async def test_every_saver_hears_it_once(
    services: Services, fake: FakeSources, clock: Clock
) -> None:
    out = io.StringIO()
    services.delivery.register(ConsoleTransport(out))
    await posted(services, fake, V1)
    await ask(services, f"save {PAPER}", "ada")
    await ask(services, f"save {PAPER}", "bob")
    await ask(services, "subscribe superconductors", "ada")  # a topic with no match yet
    clock.advance(hours=1)
    await posted(services, fake, V2)
    for user in (ADA, BOB):
        run = await alert(services, user)
        assert run is not None and run.outcome is Outcome.POSTED
    text = out.getvalue()
    assert text.count("── direct message to ada ──") == 1
    assert text.count("── direct message to bob ──") == 1
    assert text.count("— v2 posted") == 2  # each saver hears it once
    assert await services.saved_papers.owners_with_changes() == []
