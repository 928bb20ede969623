"""Judging a response: the Content-Type check and the service names in messages."""

from __future__ import annotations

import pytest
from yarl import URL

from bot.sources.http import HttpError
from bot.sources.http_responses import service_name
from tests.sources.fake_sources import FakeTime
from tests.sources.http_server import FakeServer, client, reply


async def test_unexpected_content_type(server: FakeServer, fake_time: FakeTime) -> None:
    server.then(reply(body=b"<html>Sign in</html>", Content_Type="text/html; charset=utf-8"))
    async with client(fake_time) as http:
        with pytest.raises(HttpError, match="sent text/html where JSON was expected"):
            await http.get(server.url(), expect="json")


async def test_service_names_in_messages() -> None:
    assert service_name(URL("http://export.arxiv.org/api/query")) == "arXiv"
    assert service_name(URL("https://rss.arxiv.org/rss/cs.CL")) == "arXiv"
    assert service_name(URL("https://huggingface.co/api/daily_papers")) == "Hugging Face"
