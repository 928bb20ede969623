"""Files on Discord, end to end: the real discord.py against the fake, which takes
multipart bodies (`payload_json` and `files[n]`) and keeps the bytes. An export is an
attachment of the ephemeral follow-up and parses back; a channel post carries its image; a
file over the interaction's limit, or one Discord refuses, leaves the text saying why."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest
import rispy
from bibtexparser.entrypoint import parse_string

from bot.delivery.outbox import OutgoingMessage
from bot.platforms.discord import PaperwireDiscord, WebhookTransport, webhook_destination
from bot.render.neutral import Attachment, Notice, Reply
from tests.conftest import make_observation
from tests.discord.asking import CHANNEL, FOLLOW_UP, ask, text_of
from tests.discord.fake_discord import CHANNEL_ID, FakeDiscord, slash_interaction
from tests.payload_checks import PNG_SIGNATURE, check_discord_message

CHART = Attachment(
    "week-47.png", PNG_SIGNATURE + b"\0" * 64, "image/png", title="Week 47", alt_text="A chart"
)


async def _saved(fake: FakeDiscord, bot: PaperwireDiscord, *titles: str) -> None:
    await bot.services.papers.ingest(
        [
            make_observation(arxiv_id=f"2611.{n:05d}", title=title, categories=("cs.LG",))
            for n, title in enumerate(titles, 1)
        ]
    )
    for n in range(1, len(titles) + 1):
        await ask(fake, "save", options={"paper": f"2611.{n:05d}"})


def _attached(fake: FakeDiscord, body: dict[str, Any]) -> list[tuple[str, bytes]]:
    """The files of the message a follow-up body created."""
    [message] = [m for m in fake.messages if m["content"] == body.get("content")]
    return fake.files_of(message)


async def test_an_export_is_an_attachment_of_the_ephemeral_answer(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    await _saved(fake, bot, "Über R&D {braces}", "Agents $x^2$ at 100%")
    [answer] = await ask(fake, "export", group="saved")
    check_discord_message(answer)
    assert answer["flags"] & 64 and "paperwire-saved.bib: 2 entries (BibTeX, " in text_of(answer)
    assert [a["filename"] for a in answer["attachments"]] == ["paperwire-saved.bib"]
    [(name, data)] = _attached(fake, answer)
    library = parse_string(data.decode("utf-8"))
    assert not library.failed_blocks
    assert sorted(e["title"] for e in library.entries) == [
        r"Agents \$x\textasciicircum{}2\$ at 100\%",
        r"{\"U}ber R\&D \textbraceleft{}braces\textbraceright{}",
    ]
    [ris] = await ask(fake, "export", group="saved", options={"format": "ris", "tag": "none"})
    assert "No saved paper tagged “none” to export." in text_of(ris) and not ris.get("attachments")
    [ris] = await ask(fake, "export", group="saved", options={"format": "ris"})
    [(name, data)] = _attached(fake, ris)
    assert name == "paperwire-saved.ris"
    titles = sorted(r["title"] for r in rispy.loads(data.decode("utf-8")))
    assert titles == ["Agents $x^2$ at 100%", "Über R&D {braces}"]


async def test_a_file_over_the_interactions_limit_is_not_sent_and_the_answer_says_so(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    await _saved(fake, bot, "A paper")
    payload = slash_interaction(subcommand="export", group="saved")
    payload["attachment_size_limit"] = 100  # what this server allows (the fake says 25 MiB)
    before = len(fake.calls_to("POST", FOLLOW_UP))
    await fake.dispatch("INTERACTION_CREATE", payload)
    call = (await fake.wait_for("POST", FOLLOW_UP, count=before + 1))[before]
    assert call.files == () and call.json["flags"] & 64
    assert "The file could not be attached: paperwire-saved.bib is " in text_of(call.json)
    assert ", over Discord's 100 bytes." in text_of(call.json)


async def test_a_file_discord_refuses_leaves_the_text_saying_why(
    fake: FakeDiscord, bot: PaperwireDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    await _saved(fake, bot, "A paper")
    fake.file_size_limit = 100  # Discord's own check, past what the interaction said
    with caplog.at_level(logging.WARNING):
        [_, answer] = await ask(fake, "export", group="saved", count=2)
    assert "paperwire-saved.bib: 1 entry" in text_of(answer)
    assert "The file could not be attached: Discord answered 413 (too large)." in text_of(answer)
    tries = fake.calls_to("POST", FOLLOW_UP)[-2:]
    assert [len(c.files) for c in tries] == [1, 0]  # refused with it, then sent without
    assert "Discord refused the files of a message to discord:300:400!" in caplog.text


async def test_a_channel_post_carries_its_image(fake: FakeDiscord, bot: PaperwireDiscord) -> None:
    post = Reply(Notice("Your week in papers"), ephemeral=False, files=(CHART,))
    receipt = await bot.services.delivery.deliver(OutgoingMessage(CHANNEL, post))
    assert receipt.ok
    [message] = fake.messages_in(CHANNEL_ID)
    assert "Your week in papers" in message["content"]
    [(name, data)] = fake.files_of(message)
    assert name == "week-47.png" and data.startswith(PNG_SIGNATURE)
    assert message["attachments"][0]["description"] == "A chart"  # the alt text
    assert str(message["id"]) == receipt.platform_ids[0]


async def test_a_channel_post_whose_image_is_refused_goes_without_it(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    fake.file_size_limit = 10
    post = Reply(Notice("Your week in papers"), ephemeral=False, files=(CHART,))
    receipt = await bot.services.delivery.deliver(OutgoingMessage(CHANNEL, post))
    assert receipt.ok
    [message] = fake.messages_in(CHANNEL_ID)
    assert message["attachments"] == []
    assert "could not be attached: Discord answered 413" in message["content"]


async def test_a_webhook_post_carries_its_image_or_says_why_not(fake: FakeDiscord) -> None:
    url = fake.add_webhook()
    async with aiohttp.ClientSession() as session:
        webhook = WebhookTransport(url, session)
        post = Reply(Notice("Your week in papers"), ephemeral=False, files=(CHART,))
        assert (await webhook.send(OutgoingMessage(webhook_destination(url), post))).ok
        fake.file_size_limit = 10
        assert (await webhook.send(OutgoingMessage(webhook_destination(url), post))).ok
    with_image, without = fake.messages_in(CHANNEL_ID)
    [(_, data)] = fake.files_of(with_image)
    assert data.startswith(PNG_SIGNATURE)
    assert without["attachments"] == [] and "Discord answered 413" in without["content"]
