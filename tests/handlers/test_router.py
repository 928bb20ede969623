from dataclasses import replace

import pytest

from bot.app import Services
from bot.render.neutral import Digest, Help, Notice, SearchPage
from handlers.context import Context, Invocation
from handlers.router import dispatch
from tests.conftest import NOW


def _ctx(services: Services, text: str) -> Context:
    return Context(Invocation("console", "local", "shell", "ada", text), services, NOW)


async def test_search_returns_ranked_results(seeded: Services) -> None:
    reply = await dispatch(_ctx(seeded, "search diffusion"))
    assert isinstance(reply.content, SearchPage)
    assert reply.content.hits and reply.ephemeral


async def test_trending_defaults_to_latest_day_and_takes_a_date(seeded: Services) -> None:
    latest = await dispatch(_ctx(seeded, "trending"))
    assert isinstance(latest.content, Digest)
    assert latest.content.day.isoformat() == "2026-05-09"
    assert len(latest.content.papers) == seeded.settings.digest_size
    older = await dispatch(_ctx(seeded, "trending 2026-03-12"))
    assert isinstance(older.content, Digest)
    assert older.content.day.isoformat() == "2026-03-12"
    assert older.content.papers[0].title.startswith("Todyformer")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("trending yesterday", "is not a date"),
        ("trending 2026-02-30", "is not a date"),
        ("trending 2026-01-01", "No trending list for 2026-01-01"),
        ("search", "Tell me what to look for"),
        ("search -x", "nothing to search for"),
        ("search " + "x" * 600, "characters long"),
        ("x" * 3000, "commands take at most"),
    ],
)
async def test_bad_arguments_get_a_clear_message(seeded: Services, text: str, message: str) -> None:
    reply = await dispatch(_ctx(seeded, text))
    assert isinstance(reply.content, Notice) and reply.content.is_error
    assert message in reply.content.text


@pytest.mark.parametrize("text", ["", "help", "HELP", "?"])
async def test_help(seeded: Services, text: str) -> None:
    reply = await dispatch(_ctx(seeded, text))
    assert isinstance(reply.content, Help) and reply.content.error is None
    assert any("search" in t.usage for t in reply.content.topics)


async def test_unknown_subcommand_gets_help_with_the_mistake(seeded: Services) -> None:
    reply = await dispatch(_ctx(seeded, "serach diffusion"))
    assert isinstance(reply.content, Help)
    assert reply.content.error == "Unknown command `serach`."


async def test_trending_on_an_empty_corpus_says_what_to_do(services: Services) -> None:
    reply = await dispatch(_ctx(services, "trending"))
    assert isinstance(reply.content, Notice) and "paperwire ingest seeds" in reply.content.text


async def test_a_bug_becomes_an_apology_not_a_traceback(
    seeded: Services, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        async def search(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("boom")

    broken = replace(seeded, search=Broken())  # type: ignore[arg-type]
    reply = await dispatch(_ctx(broken, "search x"))
    assert isinstance(reply.content, Notice) and reply.content.text.startswith("Sorry")
    assert "boom" not in reply.content.text
    assert "command failed" in caplog.text


@pytest.mark.parametrize(
    "text", ["/PAPERS help", "/Papers HELP", "PAPERS", "papers Search diffusion"]
)
async def test_command_names_are_case_insensitive(seeded: Services, text: str) -> None:
    reply = await dispatch(_ctx(seeded, text))
    assert not (isinstance(reply.content, Help) and reply.content.error)
    assert isinstance(reply.content, Help | SearchPage)


def test_the_shell_takes_the_command_in_any_case() -> None:
    from bot.platforms.console import invocation_from_line

    invocation = invocation_from_line("/PAPERS help", user="ada")
    assert invocation is not None and invocation.text == "help"
