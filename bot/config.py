"""Settings, read once at start from the environment (secrets only ever come from there)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.errors import UserError


def default_db_path(env: Mapping[str, str]) -> str:
    """`$XDG_DATA_HOME/paperwire/paperwire.db`, by default `~/.local/share/paperwire/...`."""
    data_home = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(data_home) / "paperwire" / "paperwire.db")


@dataclass(frozen=True)
class Settings:
    db_path: str
    digest_size: int = 10
    search_page_size: int = 5

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, db: str | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            db_path=db or env.get("PAPERWIRE_DB") or default_db_path(env),
            digest_size=_int(env, "PAPERWIRE_DIGEST_SIZE", 10, 1, 50),
            search_page_size=_int(env, "PAPERWIRE_SEARCH_PAGE_SIZE", 5, 1, 20),
        )


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
