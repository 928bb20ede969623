"""Settings, read once at start from the environment (secrets only ever come from there)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import UserError
from bot.sources.biorxiv import SERVERS as BIORXIV_SERVERS
from bot.storage.locations import describe, is_postgres_url


def default_db_path(env: Mapping[str, str]) -> str:
    """`$XDG_DATA_HOME/paperwire/paperwire.db`, by default `~/.local/share/paperwire/...`."""
    data_home = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(data_home) / "paperwire" / "paperwire.db")


KNOWN_SOURCES = ("hf", "arxiv", "biorxiv")
LOG_FORMATS = ("text", "json")


def log_format_from(env: Mapping[str, str]) -> str:
    """PAPERWIRE_LOG_FORMAT: `text` (the default) or `json` (see `bot.logs`); read before
    the settings, so that their errors are logged as asked."""
    value = env.get("PAPERWIRE_LOG_FORMAT", "").strip().lower() or "text"
    if value not in LOG_FORMATS:
        raise UserError(f"PAPERWIRE_LOG_FORMAT is {value[:20]!r}: use text or json")
    return value


@dataclass(frozen=True)
class Settings:
    # An SQLite file, or a postgresql:// URL: out of repr (its password); see database_label.
    db_path: str = field(repr=False)
    own_data_folder: bool = False  # db_path is in paperwire's default folder: kept 0700
    digest_size: int = 10
    search_page_size: int = 5
    sources: tuple[str, ...] = ("hf",)
    hf_url: str = "https://huggingface.co"
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_rss_url: str = "https://rss.arxiv.org/rss"
    arxiv_categories: tuple[str, ...] = ()
    arxiv_interval_s: int = 3  # arXiv asks for at most one request every 3 seconds
    biorxiv_api_url: str = "https://api.biorxiv.org"
    biorxiv_servers: tuple[str, ...] = ("biorxiv",)
    list_settle_hours: int = 3
    list_complete_hour: int = 6
    digest_grace_hours: int = 6  # a digest missed while down is posted on return within this
    max_subscriptions: int = 20  # topics per user
    commands_per_minute: int = 10  # per user (0: no limit); see bot.budget
    commands_per_hour: int = 60
    leader_check_s: int = 10  # processes sharing a database: how often each beats / asks
    # A Slack workspace that uninstalled paperwire: its data is kept this long (a reinstall
    # meanwhile finds its settings), then forgotten.
    slack_uninstall_grace_days: int = 30

    @property
    def shared_database(self) -> bool:
        """PostgreSQL: other processes may write it too (SQLite has one writer)."""
        return is_postgres_url(self.db_path)

    @property
    def database_label(self) -> str:
        """The database for messages and logs: a file's path, or where a PostgreSQL URL
        points without its password."""
        return describe(self.db_path)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, db: str | None = None) -> Settings:
        env = os.environ if env is None else env
        db_path = db or _database(env) or default_db_path(env)
        return cls(
            db_path=db_path,
            own_data_folder=_in_default_folder(db_path, env),
            digest_size=_int(env, "PAPERWIRE_DIGEST_SIZE", 10, 1, 50),
            search_page_size=_int(env, "PAPERWIRE_SEARCH_PAGE_SIZE", 5, 1, 20),
            sources=_sources(env),
            hf_url=_url(env, "PAPERWIRE_HF_URL", cls.hf_url),
            arxiv_api_url=_url(env, "PAPERWIRE_ARXIV_API_URL", cls.arxiv_api_url),
            arxiv_rss_url=_url(env, "PAPERWIRE_ARXIV_RSS_URL", cls.arxiv_rss_url),
            arxiv_categories=_list(env, "PAPERWIRE_ARXIV_CATEGORIES"),
            arxiv_interval_s=_int(env, "PAPERWIRE_ARXIV_INTERVAL_S", 3, 0, 60),
            biorxiv_api_url=_url(env, "PAPERWIRE_BIORXIV_API_URL", cls.biorxiv_api_url),
            biorxiv_servers=_biorxiv_servers(env),
            list_settle_hours=_int(env, "PAPERWIRE_LIST_SETTLE_HOURS", 3, 0, 48),
            list_complete_hour=_int(env, "PAPERWIRE_LIST_COMPLETE_HOUR", 6, 0, 23),
            digest_grace_hours=_int(env, "PAPERWIRE_DIGEST_GRACE_HOURS", 6, 0, 48),
            max_subscriptions=_int(env, "PAPERWIRE_MAX_SUBSCRIPTIONS", 20, 1, 1000),
            commands_per_minute=_int(env, "PAPERWIRE_COMMANDS_PER_MINUTE", 10, 0, 10_000),
            commands_per_hour=_int(env, "PAPERWIRE_COMMANDS_PER_HOUR", 60, 0, 100_000),
            # At most 10: silent for PROCESS_GONE_AFTER (30 s: three beats), a process is dead.
            leader_check_s=_int(env, "PAPERWIRE_LEADER_CHECK_S", 10, 1, 10),
            slack_uninstall_grace_days=_int(
                env, "PAPERWIRE_SLACK_UNINSTALL_GRACE_DAYS", 30, 0, 3650
            ),
        )


def _database(env: Mapping[str, str]) -> str | None:
    """PAPERWIRE_DATABASE_URL (PostgreSQL) or PAPERWIRE_DB (an SQLite file, or a URL too)."""
    url, path = env.get("PAPERWIRE_DATABASE_URL"), env.get("PAPERWIRE_DB")
    if url and path:
        raise UserError("set PAPERWIRE_DATABASE_URL or PAPERWIRE_DB, not both")
    if url and not is_postgres_url(url):
        raise UserError(
            "PAPERWIRE_DATABASE_URL must be a postgresql:// URL"
            " (an SQLite file goes in PAPERWIRE_DB)"
        )
    return url or path


def _in_default_folder(db_path: str, env: Mapping[str, str]) -> bool:
    try:
        default = default_db_path(env)
    except RuntimeError:  # no home folder: no default folder either
        return False
    return Path(db_path).parent == Path(default).parent


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())


def _sources(env: Mapping[str, str]) -> tuple[str, ...]:
    if "PAPERWIRE_SOURCES" not in env:
        return ("hf",)
    sources = _list(env, "PAPERWIRE_SOURCES")
    unknown = [s for s in sources if s not in KNOWN_SOURCES]
    if unknown:
        raise UserError(
            f"PAPERWIRE_SOURCES: unknown source {unknown[0][:20]!r}; use any of"
            f" {', '.join(KNOWN_SOURCES)} (or nothing for the bundled papers only)"
        )
    return sources


def _biorxiv_servers(env: Mapping[str, str]) -> tuple[str, ...]:
    servers = _list(env, "PAPERWIRE_BIORXIV_SERVERS") or ("biorxiv",)
    for server in servers:
        if server not in BIORXIV_SERVERS:
            raise UserError(
                f"PAPERWIRE_BIORXIV_SERVERS: unknown server {server[:20]!r};"
                f" use {' or '.join(BIORXIV_SERVERS)}"
            )
    return servers


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    if not value.startswith(("http://", "https://")):
        raise UserError(f"{name} must be an http(s) URL, not {value[:60]!r}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise UserError(f"{name} must be a whole number, not {raw[:20]!r}") from None
    if not low <= value <= high:
        raise UserError(f"{name} must be between {low} and {high}, not {value}")
    return value
