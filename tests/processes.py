"""Starting the real `paperwire run` as a child process for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

# Whatever the developer's shell has set must not leak into a test's bot.
PLATFORM_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "DISCORD_BOT_TOKEN",
    "DISCORD_WEBHOOK_URL",
)


async def start_paperwire_run(
    db: Path, *, quiet: bool = False, **env: str
) -> asyncio.subprocess.Process:
    """`paperwire run` on `db`, no scheduled ingest (only the bundled papers, loaded at
    start when `db` has none of them), only the platforms `env` sets.
    stdout and stderr are pipes unless `quiet`."""
    environment = (
        {k: v for k, v in os.environ.items() if k not in PLATFORM_VARIABLES}
        | {"PAPERWIRE_DB": str(db), "PAPERWIRE_SOURCES": ""}
        | env
    )
    stream = asyncio.subprocess.DEVNULL if quiet else asyncio.subprocess.PIPE
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", stdout=stream, stderr=stream, env=environment
    )
