"""File uploads in the fake Slack (fake_slack.py): the three steps slack_sdk's
`files_upload_v2` takes (slack_sdk 3.48, `web/async_client.py`), kept byte for byte:

1. `files.getUploadURLExternal` (`filename`, `length`, optional `alt_txt`, `snippet_type`)
   answers `file_id` and an `upload_url`: here the fake's own `/upload/<file_id>` on
   loopback. It needs the `files:write` scope (`fake.scopes`): without it Slack answers
   `missing_scope` (with `needed` and `provided`).
2. The bytes are POSTed as the raw body to `upload_url` (no token: the URL is the
   credential), recorded as method `"file_upload"` and answered `OK - <length>`; bytes of
   another length than announced get a 400, as Slack does. An unknown URL gets a 404.
3. `files.completeUploadExternal` (`files`: JSON `[{"id", "title"}]`, optional `channel_id`,
   `initial_comment`, `thread_ts`) shares them and answers `files` (what `files.info`
   shows). A file never uploaded is `file_not_found`; a channel in `fake.not_member` is
   `not_in_channel`. A shared file shows in the channel's history (or thread) as a message
   carrying `files`, as Slack shows it.

Every upload is kept in `fake.uploads` by file id (`FakeUpload.data`: the bytes received);
`fake.shared(channel)` lists those shared in a channel, in order.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

UPLOAD_METHOD = "file_upload"
FILES_SCOPE = "files:write"


@dataclass
class FakeUpload:
    file_id: str
    filename: str
    length: int
    alt_txt: str = ""
    snippet_type: str = ""
    data: bytes | None = None  # the bytes POSTed to its upload URL
    title: str = ""
    channel: str = ""  # where it was shared ("" until then, or shared with no channel)
    thread_ts: str = ""
    initial_comment: str = ""
    completed: bool = False

    def info(self) -> dict[str, Any]:
        """The file as `files.info` and a file share message describe it."""
        return {
            "id": self.file_id,
            "name": self.filename,
            "title": self.title or self.filename,
            "size": len(self.data or b""),
            "alt_txt": self.alt_txt,
            "mimetype": "",
            "channels": [self.channel] if self.channel else [],
        }


@dataclass
class FakeFiles:
    uploads: dict[str, FakeUpload] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def upload_url(self, args: dict[str, Any], base_url: str, scopes: str) -> dict[str, Any]:
        if FILES_SCOPE not in scopes.split(","):
            return {
                "ok": False,
                "error": "missing_scope",
                "needed": FILES_SCOPE,
                "provided": scopes,
            }
        filename = str(args.get("filename") or "")
        length = str(args.get("length") or "")
        if not filename or not length.isdecimal():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ids):08d}"
        self.uploads[file_id] = FakeUpload(
            file_id,
            filename,
            int(length),
            alt_txt=str(args.get("alt_txt") or ""),
            snippet_type=str(args.get("snippet_type") or ""),
        )
        return {"ok": True, "file_id": file_id, "upload_url": f"{base_url}/upload/{file_id}"}

    def receive(self, file_id: str, data: bytes) -> web.Response:
        upload = self.uploads.get(file_id)
        if upload is None or upload.completed:
            return web.Response(status=404, text="Not Found")
        if len(data) != upload.length:
            return web.Response(status=400, text=f"length mismatch: {len(data)}")
        upload.data = data
        return web.Response(text=f"OK - {len(data)}")

    def complete(self, args: dict[str, Any], not_member: set[str]) -> dict[str, Any]:
        try:
            listed = json.loads(str(args.get("files") or ""))
        except json.JSONDecodeError:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(listed, list) or not listed:
            return {"ok": False, "error": "invalid_arguments"}
        channel = str(args.get("channel_id") or "")
        if channel in not_member:
            return {"ok": False, "error": "not_in_channel"}
        found = []
        for item in listed:
            upload = self.uploads.get(str(item.get("id") if isinstance(item, dict) else ""))
            if upload is None or upload.data is None or upload.completed:
                return {"ok": False, "error": "file_not_found"}
            found.append((upload, str(item.get("title") or "")))
        for upload, title in found:
            upload.title, upload.channel, upload.completed = title, channel, True
            upload.thread_ts = str(args.get("thread_ts") or "")
            upload.initial_comment = str(args.get("initial_comment") or "")
        return {"ok": True, "files": [upload.info() for upload, _ in found]}

    def shared(self, channel: str | None = None) -> list[FakeUpload]:
        return [
            u
            for u in self.uploads.values()
            if u.completed and (channel is None or u.channel == channel)
        ]
