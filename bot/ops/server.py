"""The operator's HTTP endpoints of `paperwire run`: `GET /healthz`, `/readyz`, `/metrics`
and `/status`. They are served on PAPERWIRE_HTTP_HOST:PAPERWIRE_HTTP_PORT when that port is
set, whatever the platforms; in Slack's HTTP mode on Slack's own listener (the same host and
port as `/slack/events`), one listener for both.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from bot.app import Services
from bot.errors import UserError
from bot.ops import status_page
from bot.ops.health import Readiness
from bot.ops.metrics import CONTENT_TYPE
from bot.platforms.connecting import listen_http
from bot.storage.rows import WAITING

_log = logging.getLogger(__name__)

GAUGES_TIMEOUT_S = 2.0  # the outbox's gauges: a scrape does not wait longer for them
DEFAULT_HOST = "0.0.0.0"


@dataclass(frozen=True)
class OpsConfig:
    """Where the endpoints listen (`port` None: nowhere of their own) and the status page's
    token (None: the page is off)."""

    host: str = DEFAULT_HOST
    port: int | None = None
    status_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OpsConfig:
        env = os.environ if env is None else env
        port = env.get("PAPERWIRE_HTTP_PORT", "").strip()
        if port and (not port.isdigit() or int(port) > 65535):
            raise UserError(f"PAPERWIRE_HTTP_PORT must be a port number, not {port[:10]!r}")
        return cls(
            host=env.get("PAPERWIRE_HTTP_HOST", "").strip() or DEFAULT_HOST,
            port=int(port) if port else None,
            status_token=env.get("PAPERWIRE_STATUS_TOKEN", "").strip() or None,
        )


class OpsEndpoints:
    """The endpoints, added to an aiohttp app: Slack's, or the one `listen` starts."""

    def __init__(self, services: Services, config: OpsConfig, started: datetime) -> None:
        self._services = services
        self._config = config
        self._started = started
        self.readiness = Readiness()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None  # where `listen` listens (port 0 picks one)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/status", self._status)

    async def listen(self) -> None:
        """Listen on the configured host and port, for these endpoints alone."""
        assert self._config.port is not None
        app = web.Application()
        self.add_routes(app)
        self._runner, self.port = await listen_http(app, self._config.host, self._config.port)
        _log.info(
            "health, metrics and status on http://%s:%s/ (healthz, readyz, metrics, status)",
            self._config.host,
            self.port,
        )

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        ready, body = await self.readiness.check()
        return web.json_response(body, status=200 if ready else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(GAUGES_TIMEOUT_S):
                await self._outbox_gauges()
        except Exception as exc:  # the counters are still worth a scrape
            _log.warning("metrics: the outbox could not be read (%s)", type(exc).__name__)
        body = self._services.metrics.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def _outbox_gauges(self) -> None:
        services = self._services
        depths = await services.outbox.outbox_depths()
        rows = await services.db.fetch_raw(f"SELECT min(created_at) FROM outbox WHERE {WAITING}")
        oldest = _moment(rows[0][0]) if rows else None
        age = (services.clock() - oldest).total_seconds() if oldest is not None else None
        services.metrics.outbox(depths, age)

    async def _status(self, request: web.Request) -> web.Response:
        if not self._allowed(request):
            raise web.HTTPNotFound()
        page = await status_page.gather_page(self._services, self._started)
        return web.Response(
            text=status_page.render(page),
            content_type="text/html",
            charset="utf-8",
            headers={
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",  # a ?token= link must not leak onwards
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            },
        )

    def _allowed(self, request: web.Request) -> bool:
        """The token, as `Authorization: Bearer ...` or `?token=`; no token set: never."""
        expected = self._config.status_token
        if expected is None:
            return False
        given = request.query.get("token", "")
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            given = credentials.strip()
        # As bytes: compare_digest refuses str with non-ASCII characters.
        return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _moment(value: object) -> datetime | None:
    """A time as SQLite (ISO text) or PostgreSQL (a datetime) gives it."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        moment = datetime.fromisoformat(value)
    else:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
