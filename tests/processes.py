"""Starting the real `paperwire run` as a child process for end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

# Whatever the developer's shell has set must not leak into a test's bot.
PLATFORM_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "DISCORD_BOT_TOKEN",
    "DISCORD_WEBHOOK_URL",
    "PAPERWIRE_DISCORD_SHARDS",
    "PAPERWIRE_DISCORD_SHARD_IDS",
)


async def start_paperwire_run(
    db: Path | str, quiet: bool = False, preamble: str = "", /, **env: str
) -> asyncio.subprocess.Process:
    """`paperwire run` on `db`, no scheduled ingest (only the bundled papers, loaded at
    start when `db` has none of them), only the platforms `env` sets.
    stdout and stderr are pipes unless `quiet`. `preamble`: Python code run first (to hold
    up something that is too quick to stop in otherwise)."""
    environment = (
        {k: v for k, v in os.environ.items() if k not in PLATFORM_VARIABLES}
        | {"PAPERWIRE_DB": str(db), "PAPERWIRE_SOURCES": ""}
        | env
    )
    stream = asyncio.subprocess.DEVNULL if quiet else asyncio.subprocess.PIPE
    return await asyncio.create_subprocess_exec(
        *(
            [sys.executable, "-c", preamble + _AS_MAIN]
            if preamble
            else [sys.executable, "-m", "bot"]
        ),
        "run",
        stdout=stream,
        stderr=stream,
        env=environment,
    )


_AS_MAIN = "\nimport runpy; runpy.run_module('bot', run_name='__main__', alter_sys=True)"


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A local port nothing listens on: bound (so nobody else takes it) but not listening,
    so connecting to it is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


async def read_until(
    stream: asyncio.StreamReader,
    *texts: str,
    timeout: float = 60.0,  # noqa: ASYNC109
) -> list[str]:
    """Lines from `stream` up to the first holding each of `texts`, in that order; fails
    the test if the stream ends first."""
    lines: list[str] = []
    async with asyncio.timeout(timeout):
        for text in texts:
            while True:
                line = (await stream.readline()).decode()
                assert line, f"the output ended before {text!r}:\n{''.join(lines)}"
                lines.append(line)
                if text in line:
                    break
    return lines


async def stop(process: asyncio.subprocess.Process, sig: signal.Signals) -> tuple[int, float]:
    """Send `sig`; the exit code and the seconds it took (at most 30: then killed)."""
    started = time.monotonic()
    process.send_signal(sig)
    try:
        async with asyncio.timeout(30):
            code = await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"paperwire run was still running 30 s after {sig.name}") from None
    return code, time.monotonic() - started
