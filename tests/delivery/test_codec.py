"""Files in the outbox: a reply's attachments survive being queued (base64 in its row), a
failed channel post is retried with its image, and what a message may carry is capped."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.app import Services
from bot.delivery import codec
from bot.delivery.outbox import DeliveryService, OutgoingMessage, Receipt
from bot.render.limits import MAX_FILE_BYTES, MAX_FILES
from bot.render.neutral import Attachment, Digest, Notice, Reply
from tests.conftest import NOW, Clock, make_paper
from tests.delivery.test_outbox import CHANNEL, Recorder

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # every byte value, NULs included
CHART = Attachment("week.png", PNG, "image/png", title="Week 47", alt_text="Papers per day")
BIB = Attachment("saved.bib", "@misc{k, title = {Über}}\n".encode(), "application/x-bibtex")


def test_files_survive_the_codec() -> None:
    digest = Digest(day=NOW.date(), papers=(make_paper(),))
    reply = Reply(digest, ephemeral=False, files=(CHART, BIB))
    stored = codec.dumps(reply)
    assert codec.loads(stored) == reply
    [chart, _] = json.loads(stored)["files"]
    assert chart["data"]["$bytes"].startswith("iVBORw0KGgo")  # base64 of the PNG signature


def test_a_file_over_the_cap_is_refused_with_its_name_and_size() -> None:
    big = Attachment("huge.png", b"\0" * (MAX_FILE_BYTES + 1), "image/png")
    with pytest.raises(codec.FilesTooLarge, match=r"^huge.png is 10 MiB; .* at most 10 MiB$"):
        codec.dumps(Reply(Notice("x"), files=(big,)))
    with pytest.raises(codec.FilesTooLarge, match=f"at most {MAX_FILES} files, not 11"):
        codec.dumps(Reply(Notice("x"), files=(BIB,) * 11))
    codec.dumps(Reply(Notice("x"), files=(BIB,) * MAX_FILES))  # the most there may be


def test_stored_file_data_that_is_not_base64_is_unreadable() -> None:
    stored = json.loads(codec.dumps(Reply(Notice("x"), files=(BIB,))))
    stored["files"][0]["data"]["$bytes"] = "not base64!"
    with pytest.raises(ValueError):
        codec.loads(json.dumps(stored))


async def test_a_queued_channel_post_is_retried_with_its_image(services: Services) -> None:
    clock = Clock()
    delivery = DeliveryService(services.outbox, clock)
    failing = Recorder(Receipt(ok=False, error="HTTP 503 (HTML page)"))
    delivery.register(failing)
    post = Reply(Notice("Your week in papers"), ephemeral=False, files=(CHART,))
    first = await delivery.deliver(OutgoingMessage(CHANNEL, post))
    assert first.queued and not first.ok
    clock.now = NOW + timedelta(seconds=10)  # past the first backoff
    [retried] = (await delivery.drain()).values()
    assert retried.ok
    assert [m.reply for m in failing.sent] == [post, post]  # read back from the outbox
    assert failing.sent[1].reply.files[0].data == PNG
