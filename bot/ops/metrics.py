"""What `GET /metrics` exports, in the Prometheus text format: one `Metrics` per process
(its own registry, not prometheus_client's global one, so that tests and several services
in one process never collide).

Every label takes its values from a fixed set: the platform, the source, the command's
family, the digest outcome, the job's family. Anything else (a user, a channel, a paper, a
typed command) is folded into "other", so the number of series stays bounded whatever
people type.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from bot import __version__
from bot.digests.settings import Outcome

__all__ = ["CONTENT_TYPE", "Metrics"]

OTHER = "other"
PLATFORMS = frozenset({"slack", "discord", "console"})
SOURCES = frozenset({"hf", "arxiv", "biorxiv", "medrxiv", "seeds"})
# The command families: `/papers <subcommand>` (handlers/router.py SUBCOMMANDS, a test keeps
# them in step), plus what the router answers itself.
COMMANDS = frozenset(
    {
        "search",
        "trending",
        "digest",
        "subscribe",
        "unsubscribe",
        "subscriptions",
        "pause",
        "resume",
        "alerts",
        "save",
        "saved",
        "forget",
        "help",
        "unknown",  # a subcommand that does not exist
        "refused",  # over the person's command budget, or too long
        "button",  # a button press
    }
)
# Scheduler jobs by the first part of their id ("digest:slack:T1:C1" -> "digest").
JOBS = frozenset({"digest", "alerts", "ingest", "outbox", "index", "schedule"})
SKIP_REASONS = frozenset(o.value for o in Outcome if o not in (Outcome.POSTED, Outcome.RUNNING))
INGEST_RESULTS = ("new", "updated", "unchanged")

# Seconds: sends wait for their pacing turn (up to a 429's Retry-After), commands and
# searches answer within a second or two, the scheduler starts jobs within a second.
SEND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
COMMAND_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300)


def bounded(value: str, allowed: Iterable[str]) -> str:
    """`value` if it is one of `allowed`, else "other"."""
    return value if value in allowed else OTHER


def job_family(job_id: str) -> str:
    return bounded(job_id.partition(":")[0], JOBS)


class Metrics:
    """The process's metrics, and the calls the code makes to move them."""

    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # `_created` series: noise
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.sent = Counter(
            "paperwire_messages_sent",
            "Messages (parts of one included) a platform accepted.",
            ["platform"],
            registry=registry,
        )
        self.failed = Counter(
            "paperwire_messages_failed",
            "Failed send attempts (each failure of a message counts).",
            ["platform"],
            registry=registry,
        )
        self.retried = Counter(
            "paperwire_messages_retried",
            "Failed send attempts kept in the outbox for another try.",
            ["platform"],
            registry=registry,
        )
        self.send_seconds = Histogram(
            "paperwire_send_seconds",
            "Time to send one message, its pacing turn included.",
            ["platform"],
            buckets=SEND_BUCKETS,
            registry=registry,
        )
        self.rate_limited = Counter(
            "paperwire_rate_limited",
            "429 (rate limited) answers received.",
            ["platform"],
            registry=registry,
        )
        self.outbox_depth = Gauge(
            "paperwire_outbox_depth",
            "Messages waiting in the outbox (command replies included), at the scrape.",
            ["platform"],
            registry=registry,
        )
        self.outbox_oldest = Gauge(
            "paperwire_outbox_oldest_age_seconds",
            "Age of the oldest message waiting in the outbox (0: none waits), at the scrape.",
            registry=registry,
        )
        self.command_seconds = Histogram(
            "paperwire_command_seconds",
            "Time to answer a command (its reply composed, not yet delivered).",
            ["command"],
            buckets=COMMAND_BUCKETS,
            registry=registry,
        )
        self.digests_posted = Counter(
            "paperwire_digests_posted",
            "Channel digests posted.",
            registry=registry,
        )
        self.digests_skipped = Counter(
            "paperwire_digests_skipped",
            "Channel digest runs that posted nothing now, by reason.",
            ["reason"],
            registry=registry,
        )
        self.alerts_sent = Counter(
            "paperwire_alerts_sent",
            "Topic alerts (direct messages) sent or queued for sending.",
            registry=registry,
        )
        self.papers_ingested = Counter(
            "paperwire_papers_ingested",
            "Papers read from a source and stored, by what they did to the corpus.",
            ["source", "result"],
            registry=registry,
        )
        self.search_seconds = Histogram(
            "paperwire_search_seconds",
            "Time to run one search (ranking, reading the hits, snippets).",
            buckets=COMMAND_BUCKETS,
            registry=registry,
        )
        self.scheduler_lag = Histogram(
            "paperwire_scheduler_lag_seconds",
            "How late a scheduled job started, after its scheduled time.",
            ["job"],
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.info = Gauge(
            "paperwire_info", "This process's version (always 1).", ["version"], registry=registry
        )
        self.info.labels(version=__version__).set(1)
        self._start_series()

    def _start_series(self) -> None:
        """Every fixed series exists from the start at 0, so that a rate over a counter
        that moved once is right (Prometheus cannot rate a series it never saw at 0)."""
        for platform in PLATFORMS:
            for metric in (self.sent, self.failed, self.retried, self.rate_limited):
                metric.labels(platform=platform)
            self.outbox_depth.labels(platform=platform).set(0)
        for reason in SKIP_REASONS:
            self.digests_skipped.labels(reason=reason)

    # -- what the code reports --------------------------------------------------------

    def send(self, platform: str, outcome: str, seconds: float) -> None:
        """One attempt to send a message: "sent", "failed" (given up) or "retried"
        (failed, kept for another try)."""
        platform = bounded(platform, PLATFORMS)
        self.send_seconds.labels(platform=platform).observe(seconds)
        if outcome == "sent":
            self.sent.labels(platform=platform).inc()
            return
        self.failed.labels(platform=platform).inc()
        if outcome == "retried":
            self.retried.labels(platform=platform).inc()

    def limited(self, platform: str) -> None:
        """The platform answered 429."""
        self.rate_limited.labels(platform=bounded(platform, PLATFORMS)).inc()

    def command(self, family: str, seconds: float) -> None:
        self.command_seconds.labels(command=bounded(family, COMMANDS)).observe(seconds)

    def digest(self, outcome: Outcome) -> None:
        if outcome is Outcome.POSTED:
            self.digests_posted.inc()
        elif outcome is not Outcome.RUNNING:
            self.digests_skipped.labels(reason=outcome.value).inc()

    def alert(self) -> None:
        self.alerts_sent.inc()

    def ingested(self, source: str, new: int, updated: int, unchanged: int) -> None:
        source = bounded(source, SOURCES)
        for result, count in zip(INGEST_RESULTS, (new, updated, unchanged), strict=True):
            if count:
                self.papers_ingested.labels(source=source, result=result).inc(count)

    def searched(self, seconds: float) -> None:
        self.search_seconds.observe(seconds)

    def job_started(self, job_id: str, scheduled: datetime, now: datetime) -> None:
        lag = max(0.0, (now - scheduled).total_seconds())
        self.scheduler_lag.labels(job=job_family(job_id)).observe(lag)

    # -- at each scrape ---------------------------------------------------------------

    def outbox(self, depths: Mapping[str, int], oldest_age_s: float | None) -> None:
        """What waits in the outbox, by platform (the outbox's keys start "platform:")."""
        by_platform = dict.fromkeys(PLATFORMS, 0)
        for destination, count in depths.items():
            platform = bounded(destination.partition(":")[0], PLATFORMS)
            by_platform[platform] = by_platform.get(platform, 0) + count
        for platform, count in by_platform.items():
            self.outbox_depth.labels(platform=platform).set(count)
        self.outbox_oldest.set(oldest_age_s or 0.0)

    def render(self) -> bytes:
        return generate_latest(self.registry)


# discord.py waits out a 429 itself and says so only in its log: these lines are counted.
DISCORD_429_LOGS = {
    "discord.http": ("responded with 429", "received a 429", "Global rate limit"),
    "discord.webhook.async_": ("is rate limited",),
}


class _Counting429s(logging.Filter):
    def __init__(self, metrics: Metrics, platform: str, fragments: tuple[str, ...]) -> None:
        super().__init__()
        self._metrics = metrics
        self._platform = platform
        self._fragments = fragments

    def filter(self, record: logging.LogRecord) -> bool:
        if any(fragment in str(record.msg) for fragment in self._fragments):
            self._metrics.limited(self._platform)
        return True


@contextlib.contextmanager
def counting_discord_429s(metrics: Metrics) -> Iterator[None]:
    """While inside, each 429 discord.py logs counts in `paperwire_rate_limited_total`."""
    added = []
    for name, fragments in DISCORD_429_LOGS.items():
        counting = _Counting429s(metrics, "discord", fragments)
        logging.getLogger(name).addFilter(counting)
        added.append((name, counting))
    try:
        yield
    finally:
        for name, counting in added:
            logging.getLogger(name).removeFilter(counting)
