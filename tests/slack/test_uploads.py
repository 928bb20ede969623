"""Files on Slack, end to end: the real bolt app and slack_sdk's `files_upload_v2` against
the fake, which keeps the bytes. An export goes to the asker's DM and parses back; a
refused upload still answers, saying why; a channel post's image follows its message, and
a retried post neither posts its message twice nor loses (or doubles) its image."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import rispy
from bibtexparser.entrypoint import parse_string

from bot.app import Services
from bot.delivery.outbox import OutgoingMessage
from bot.delivery.pacing import Pacer
from bot.models import Destination
from bot.platforms.slack import SlackAdapter, SlackConfig
from bot.render.neutral import Attachment, Notice, Reply
from tests.conftest import NOW, drained_later, make_observation
from tests.payload_checks import PNG_SIGNATURE, check_slack_message
from tests.slack.fake_slack import (
    RESPONSE_URL_METHOD,
    FakeSlack,
    api_error,
    cut,
    running_fake_slack,
    server_error,
)
from tests.slack.fake_slack_files import UPLOAD_METHOD
from tests.slack.served import Bot, mention, texts_of

CHART = Attachment(
    "week-47.png", PNG_SIGNATURE + b"\0" * 64, "image/png", title="Week 47", alt_text="A chart"
)
CHANNEL = Destination("slack", "T1", "C1")


async def _saved(bot: Bot, *titles: str) -> None:
    await bot.services.papers.ingest(
        [
            make_observation(arxiv_id=f"2611.{n:05d}", title=title, categories=("cs.LG",))
            for n, title in enumerate(titles, 1)
        ]
    )
    for n in range(1, len(titles) + 1):
        await bot.command(f"save 2611.{n:05d}")


async def test_an_export_goes_to_the_askers_dm_and_parses_back(bot: Bot) -> None:
    await _saved(bot, "Über R&D {braces} <@U2>", "Agents $x^2$ at 100%")
    answer = await bot.command("saved export")
    check_slack_message(answer.args)
    assert answer.args["response_type"] == "ephemeral"
    shown = texts_of(answer)
    assert "paperwire-saved.bib: 2 entries (BibTeX, " in shown
    assert "Sent paperwire-saved.bib to your DMs." in shown
    [opened] = bot.fake.calls_to("conversations.open")
    assert opened.args["users"] == "U1"
    [file] = bot.fake.shared("DU1")  # the asker's DM, nowhere else
    assert file.filename == "paperwire-saved.bib" and file.title.startswith("Your reading list")
    assert file.data is not None
    library = parse_string(file.data.decode("utf-8"))
    assert not library.failed_blocks
    titles = sorted(entry["title"] for entry in library.entries)
    assert titles == [
        r"Agents \$x\textasciicircum{}2\$ at 100\%",
        r"{\"U}ber R\&D \textbraceleft{}braces\textbraceright{} <@U2>",
    ]
    ris = await bot.command("saved export ris")
    assert "Sent paperwire-saved.ris to your DMs." in texts_of(ris)
    [_, again] = bot.fake.shared("DU1")
    assert again.data is not None
    records = rispy.loads(again.data.decode("utf-8"))
    assert sorted(r["title"] for r in records) == [
        "Agents $x^2$ at 100%",
        "Über R&D {braces} <@U2>",
    ]
    assert {r["type_of_reference"] for r in records} == {"UNPB"}


async def test_without_files_write_the_answer_says_why_the_file_did_not_come(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    await _saved(bot, "A paper")
    bot.fake.scopes = "chat:write,commands,im:write"  # installed before files:write was asked
    answer = await bot.command("saved export")
    check_slack_message(answer.args)
    shown = texts_of(answer)
    assert "paperwire-saved.bib: 1 entry (BibTeX, " in shown  # the text still goes
    assert (
        "The file could not be uploaded: Slack answered `missing_scope` (paperwire needs the"
        " `files:write` scope: a workspace admin can reinstall it)." in shown
    )
    assert "to your DMs" not in shown and bot.fake.shared() == []
    assert "could not be uploaded: Slack answered `missing_scope`" in caplog.text


async def test_any_refusal_is_named_and_a_mention_answer_sends_the_file_too(bot: Bot) -> None:
    await _saved(bot, "A paper")
    bot.fake.fail("conversations.open", api_error("missing_scope", needed="im:write"))
    no_dm = await bot.command("saved export")
    assert "Slack answered `missing_scope` (paperwire needs the `im:write` scope" in texts_of(no_dm)
    bot.fake.fail("files.completeUploadExternal", api_error("not_allowed"))
    answer = await bot.command("saved export ris")
    assert "The file could not be uploaded: Slack answered `not_allowed`." in texts_of(answer)
    # Asked by a mention: the answer is for the asker alone, in the thread; the file, the DM.
    await mention(bot, "<@UBOT> saved export")
    [private] = await bot.fake.wait_for("chat.postEphemeral")
    await bot.services.delivery.wait_idle()
    assert private.args["user"] == "U1" and "Sent paperwire-saved.bib" in texts_of(private)
    [file] = bot.fake.shared("DU1")
    assert file.data is not None and file.data.startswith(b"@misc{")
    assert bot.fake.calls_to("chat.postMessage") == []


# --- a channel post with an image (the weekly recap) -----------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with running_fake_slack() as running:
        yield running


def _adapter(services: Services, fake: FakeSlack) -> SlackAdapter:
    config = SlackConfig(fake.token, "secret", api_url=fake.api_url, history_per_min=1000)
    adapter = SlackAdapter(services, config, Pacer(1000, per_channel=1000))
    services.delivery.register(adapter)
    return adapter


def _post() -> OutgoingMessage:
    return OutgoingMessage(
        CHANNEL, Reply(Notice("Your week in papers"), ephemeral=False, files=(CHART,))
    )


async def test_a_channel_post_is_followed_by_its_image(services: Services, fake: FakeSlack) -> None:
    _adapter(services, fake)
    receipt = await services.delivery.deliver(_post())
    assert receipt.ok
    [posted] = fake.calls_to("chat.postMessage")
    assert "Your week in papers" in texts_of(posted)
    [image] = fake.shared("C1")
    assert image.data is not None and image.data.startswith(PNG_SIGNATURE)
    assert (image.title, image.alt_txt, image.thread_ts) == ("Week 47", "A chart", "")
    # In the channel, the image shows right under the message (a message of its own).
    shown = [m for m in reversed(fake.history["C1"])]
    assert (
        shown[0]["ts"] == receipt.platform_ids[0] and shown[1]["files"][0]["name"] == "week-47.png"
    )


async def test_a_refused_image_leaves_the_post_as_it_is(
    services: Services, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    _adapter(services, fake)
    fake.scopes = "chat:write"
    with caplog.at_level(logging.WARNING):
        receipt = await services.delivery.deliver(_post())
    assert receipt.ok and len(fake.calls_to("chat.postMessage")) == 1
    assert fake.shared() == []
    assert "Slack refused the files of a message to C1 (missing_scope)" in caplog.text


async def test_an_image_that_failed_on_the_way_is_sent_again_but_not_its_message(
    services: Services, fake: FakeSlack
) -> None:
    adapter = _adapter(services, fake)
    fake.fail(UPLOAD_METHOD, server_error(500))  # the bytes did not arrive
    first = await services.delivery.deliver(_post())
    assert first.queued and not first.ok
    receipt = await drained_later(services, adapter, minutes=1)
    assert receipt.ok
    assert len(fake.calls_to("chat.postMessage")) == 1  # found by its marker, not reposted
    [image] = fake.shared("C1")
    assert image.data is not None and image.data.startswith(PNG_SIGNATURE)


async def test_an_image_whose_answer_was_lost_is_not_shared_twice(
    services: Services, fake: FakeSlack
) -> None:
    adapter = _adapter(services, fake)
    fake.fail("files.completeUploadExternal", cut(after=True))  # shared, the answer lost
    first = await services.delivery.deliver(_post())
    assert first.queued and not first.ok
    assert len(fake.shared("C1")) == 1
    receipt = await drained_later(services, adapter, minutes=1)
    assert receipt.ok
    assert len(fake.calls_to("chat.postMessage")) == 1 and len(fake.shared("C1")) == 1
    assert len(fake.calls_to("files.getUploadURLExternal")) == 1


async def test_an_answers_file_is_not_sent_again_when_its_text_is_retried(
    services: Services, fake: FakeSlack
) -> None:
    adapter = _adapter(services, fake)
    fake.fail(RESPONSE_URL_METHOD, server_error(500))  # the file went, the text did not
    export = Attachment("paperwire-saved.bib", b"@misc{a, title={A}}\n", "application/x-bibtex")
    handle = {
        "response_url": fake.response_url(),
        "user": "U1",
        "expires_at": (NOW + timedelta(minutes=30)).isoformat(),
    }
    where = Destination.reply_in("slack", "T1", "C1")
    answer = Reply(Notice("paperwire-saved.bib: 1 entry."), private=True, files=(export,))
    first = await services.delivery.deliver(OutgoingMessage(where, answer, handle=handle))
    assert first.queued and not first.ok
    assert len(fake.shared("DU1")) == 1
    receipt = await drained_later(services, adapter, minutes=1)
    assert receipt.ok
    [_, shown] = fake.calls_to(RESPONSE_URL_METHOD)
    assert "Sent paperwire-saved.bib to your DMs." in texts_of(shown)
    assert len(fake.shared("DU1")) == 1  # found in the DM, not shared twice
    assert len(fake.calls_to("files.getUploadURLExternal")) == 1
