"""The fake's file uploads, driven by the real slack_sdk `files_upload_v2`: its three
steps reach the fake on loopback, and the bytes are kept."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack.fake_slack import FakeSlack, running_fake_slack, server_error
from tests.slack.fake_slack_files import UPLOAD_METHOD

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with running_fake_slack() as running:
        yield running


def _client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=fake.token, base_url=fake.api_url, retry_handlers=[])


async def test_an_upload_takes_three_steps_and_keeps_the_bytes(fake: FakeSlack) -> None:
    done = await _client(fake).files_upload_v2(
        file_uploads=[
            {"content": PNG, "filename": "week.png", "title": "Week", "alt_txt": "A chart"},
            {"content": "@misc{k,}\n", "filename": "saved.bib"},
        ],
        channel="C1",
        thread_ts="1.000100",
    )
    steps = [c.method for c in fake.calls]
    assert steps == ["files.getUploadURLExternal"] * 2 + [UPLOAD_METHOD] * 2 + [
        "files.completeUploadExternal"
    ]
    [url, _] = fake.calls_to("files.getUploadURLExternal")
    assert url.args["filename"] == "week.png" and url.args["length"] == str(len(PNG))
    [upload, _] = fake.calls_to(UPLOAD_METHOD)
    assert upload.path.startswith("/upload/F") and upload.token is None  # the URL is enough
    chart, bib = fake.shared("C1")
    assert (chart.data, chart.title, chart.alt_txt, chart.thread_ts) == (
        PNG,
        "Week",
        "A chart",
        "1.000100",
    )
    assert bib.data == b"@misc{k,}\n" and bib.title == "saved.bib"  # the SDK's default title
    assert [f["name"] for f in done["files"]] == ["week.png", "saved.bib"]
    [shown] = fake.threads[("C1", "1.000100")]
    assert [f["id"] for f in shown["files"]] == [chart.file_id, bib.file_id]


async def test_without_files_write_slack_answers_missing_scope(fake: FakeSlack) -> None:
    fake.scopes = "chat:write,im:write"
    with pytest.raises(SlackApiError) as refused:
        await _client(fake).files_upload_v2(content=PNG, filename="week.png", channel="C1")
    assert refused.value.response["error"] == "missing_scope"
    assert refused.value.response["needed"] == "files:write"
    assert fake.uploads == {} and fake.calls_to(UPLOAD_METHOD) == []


async def test_a_failed_byte_upload_is_a_request_error_and_nothing_is_shared(
    fake: FakeSlack,
) -> None:
    fake.fail(UPLOAD_METHOD, server_error(500))
    with pytest.raises(SlackRequestError, match="status: 500"):
        await _client(fake).files_upload_v2(content=PNG, filename="week.png", channel="C1")
    assert fake.shared() == [] and fake.calls_to("files.completeUploadExternal") == []
