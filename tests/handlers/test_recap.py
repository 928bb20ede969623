"""`/papers digest set recap <day> [HH:MM]` and `set recap off`: managers only, parsed and
stored (mistakes leave the settings as they were), the schedule told, and shown in
`/papers digest status`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import time

import pytest

from bot.app import Services, build_services
from bot.config import Settings
from bot.digests.settings import DigestSettings
from bot.models import Destination
from bot.render.neutral import Notice, Reply
from handlers.context import Context, Invocation
from handlers.guards import REFUSAL
from handlers.router import dispatch
from tests.conftest import NOW, Clock

# NOW is Sunday 22 November 2026, 09:30 UTC.
CHANNEL = Destination("fake", "T1", "C1")


class Told:
    def __init__(self) -> None:
        self.settings: list[DigestSettings] = []

    def update(self, settings: DigestSettings) -> None:
        self.settings.append(settings)


@pytest.fixture
async def services(database: str) -> AsyncIterator[Services]:
    async with build_services(Settings(db_path=database), clock=Clock(NOW)) as built:
        built.digest_schedule = Told()
        yield built


async def ask(services: Services, text: str, manager: bool = True) -> Notice:
    invocation = Invocation(
        "fake", "T1", "C1", "ada", text, is_manager=manager, channel_name="ml-reading"
    )
    reply = await dispatch(Context(invocation, services, NOW))
    assert isinstance(reply, Reply) and isinstance(reply.content, Notice)
    return reply.content


async def stored(services: Services) -> DigestSettings | None:
    return await services.digests.channel_digest(CHANNEL.key)


async def test_a_manager_sets_the_recap_in_the_digests_time_zone(services: Services) -> None:
    await ask(services, "digest on 08:30 Europe/Paris")
    notice = await ask(services, "digest set recap Sunday 17:00")
    assert not notice.is_error
    assert notice.text == (
        "Saved. Weekly recap: Sundays at 17:00 Europe/Paris. Next: Sunday 22 November, 17:00."
    )
    settings = await stored(services)
    assert settings is not None
    assert (settings.recap_day, settings.recap_time, settings.recap_name) == (
        "sun",
        time(17),
        "ml-reading",
    )
    told = services.digest_schedule
    assert isinstance(told, Told) and told.settings[-1] == settings
    status = await ask(services, "digest status")
    assert "Weekly recap: Sundays at 17:00 Europe/Paris. Next: Sunday 22 November" in status.text


async def test_without_a_time_the_recap_comes_at_the_digests_time(services: Services) -> None:
    await ask(services, "digest on 08:30 Europe/Paris")
    notice = await ask(services, "digest set recap fri")
    assert "Fridays at 08:30 Europe/Paris. Next: Friday 27 November, 08:30." in notice.text
    settings = await stored(services)
    assert settings is not None and settings.recap_time is None


async def test_the_recap_is_turned_off_and_status_no_longer_shows_it(services: Services) -> None:
    await ask(services, "digest set recap sun 17:00")
    notice = await ask(services, "digest set recap off")
    assert "Weekly recap: off" in notice.text
    settings = await stored(services)
    assert settings is not None and settings.recap_day is None and settings.recap_time is None
    assert "Weekly recap" not in (await ask(services, "digest status")).text


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("digest set recap someday", "`someday` is not a weekday"),
        ("digest set recap sun 25:00", "`25:00` is not a time of day"),
        ("digest set recap sun 17:00 Europe/Paris", "takes a weekday and a time"),
        ("digest set recap off now", "takes nothing more"),
        ("digest set recap", "needs a value"),
    ],
)
async def test_a_mistake_says_so_in_one_line_and_changes_nothing(
    services: Services, text: str, said: str
) -> None:
    await ask(services, "digest set recap sat 10:00")
    before = await stored(services)
    notice = await ask(services, text)
    assert notice.is_error and said in notice.text and "\n" not in notice.text
    assert await stored(services) == before


async def test_only_channel_managers_may_set_the_recap(services: Services) -> None:
    for text in ("digest set recap sun 17:00", "digest set recap off"):
        notice = await ask(services, text, manager=False)
        assert notice.is_error and notice.text == REFUSAL
    assert await stored(services) is None
