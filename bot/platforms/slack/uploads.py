"""Files sent with a Slack message (an export, a chart), through slack_sdk's
`files_upload_v2`: files.getUploadURLExternal for each file, its bytes POSTed to the URL
Slack hands out, then files.completeUploadExternal shares them in a channel or a thread.
It needs the `files:write` scope.

Where the files go:
- A reply for the asker alone (an export) goes to the asker's DM with paperwire, opened
  with conversations.open (`im:write`): Slack has no ephemeral files. The files go first,
  and the answer then says where they went, or in one line why they did not.
- A public reply: its channel (a mention's: its thread), before the text.
- A channel post (the weekly recap's chart): after the message, as a message of its own in
  the channel. Not as the upload's `initial_comment`: that is plain text, without the
  message's blocks (its header, its buttons) and without the metadata that lets a retry
  find what an earlier send posted. Posted right after, Slack shows the two as one group
  under paperwire's name, the image under the text.

A refusal (`missing_scope`, `not_in_channel`, …) never holds the text back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.platforms.slack.errors import NETWORK_ERRORS, IncompleteAnswer, network_error, slack_error
from bot.render.neutral import Attachment

FILES_SCOPE = "files:write"


async def upload(
    client: AsyncWebClient,
    files: Sequence[Attachment],
    channel: str,
    thread_ts: str | None = None,
) -> None:
    """Share `files` in `channel` (in the thread of `thread_ts`); raises what Slack
    answered."""
    await client.files_upload_v2(
        file_uploads=[_item(file) for file in files], channel=channel, thread_ts=thread_ts
    )


def _item(file: Attachment) -> dict[str, Any]:
    item: dict[str, Any] = {
        "content": file.data,
        "filename": file.filename,
        "title": file.title or file.filename,
    }
    if file.alt_text:
        item["alt_txt"] = file.alt_text
    return item


def refused(exc: Exception) -> str | None:
    """Slack's refusal of an upload, as its `error` code; None for a failure on the way (a
    5xx, no answer), which a channel post retries."""
    if isinstance(exc, SlackApiError) and (getattr(exc.response, "status_code", 0) or 0) < 500:
        return slack_error(exc)
    return None


def why_not(exc: Exception) -> str:
    """Why a reply's files did not come, for the person who asked (one line)."""
    if isinstance(exc, SlackApiError) and slack_error(exc) == "missing_scope":
        # Slack names the scope: files:write for the upload, im:write to open the DM.
        needed = exc.response.get("needed") if exc.response is not None else None
        return (
            f"Slack answered `missing_scope` (paperwire needs the `{needed or FILES_SCOPE}`"
            " scope: a workspace admin can reinstall it)"
        )
    if isinstance(exc, SlackApiError):
        return f"Slack answered `{slack_error(exc)}`"
    if isinstance(exc, IncompleteAnswer):
        return str(exc)
    return network_error(exc)  # the bytes refused at their URL too (a SlackRequestError)


# What an upload may raise: Slack's answers, and failures on the way.
UPLOAD_ERRORS = (SlackApiError, IncompleteAnswer, *NETWORK_ERRORS)


def names(files: Sequence[Attachment]) -> str:
    return ", ".join(file.filename for file in files)


def shared_file(messages: Sequence[dict[str, Any]], files: Sequence[Attachment], after: str) -> str:
    """The ts of a message after `after` that shares every one of `files` (an earlier send's
    upload), or ""."""
    wanted = {file.filename for file in files}
    for message in messages:
        shown = {str(f.get("name")) for f in message.get("files") or [] if isinstance(f, dict)}
        if wanted and wanted <= shown and _later(str(message.get("ts") or ""), after):
            return str(message["ts"])
    return ""


def _later(ts: str, than: str) -> bool:
    try:
        return float(ts) > float(than)
    except ValueError:
        return False
