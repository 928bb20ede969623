"""Where a database is: an SQLite file's path or a PostgreSQL URL, and how to name it in a
message without its password."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_postgres_url(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def describe(location: str) -> str:
    """A file's path as it is; a URL as the database, host and port it names: never the user's
    password (nor the query, which may hold one)."""
    if not is_postgres_url(location):
        return location
    try:
        parts = urlsplit(location)
        host, port = parts.hostname or "localhost", parts.port or 5432
    except ValueError:
        return "PostgreSQL (an unreadable URL)"
    name = parts.path.lstrip("/") or "(default database)"
    return f"PostgreSQL {name} on {host}:{port}"
