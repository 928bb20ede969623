"""PostgreSQL for the tests: `PAPERWIRE_TEST_DATABASE_URL` names a server (`.ci/run` sets it;
CI machines run PostgreSQL 15 on 127.0.0.1:5432). Unset, the tests that need it are skipped
with one reason; set, they run, and a server out of reach is a failure, not a skip. Each
test gets a schema of its own, dropped after it."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

import psycopg
import pytest

URL_VARIABLE = "PAPERWIRE_TEST_DATABASE_URL"
SKIP_REASON = f"PostgreSQL tests need {URL_VARIABLE} (e.g. postgresql://postgres@127.0.0.1/test)"


def server_url() -> str:
    """The test server's URL; skips the test when none is set."""
    url = os.environ.get(URL_VARIABLE, "")
    if not url:
        pytest.skip(SKIP_REASON)
    return url


def in_schema(url: str, schema: str) -> str:
    """`url` with every connection's search_path set to `schema`."""
    options = quote(f"-csearch_path={schema}", safe="")
    return f"{url}{'&' if '?' in url else '?'}options={options}"


@asynccontextmanager
async def fresh_schema() -> AsyncIterator[str]:
    """A URL whose connections work in a new, empty schema, dropped afterwards."""
    url = server_url()
    schema = f"pw_test_{uuid.uuid4().hex[:12]}"
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield in_schema(url, schema)
    finally:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
