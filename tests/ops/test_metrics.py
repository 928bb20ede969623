"""The metric definitions: every label takes its values from a fixed set, whatever the code
is handed (a typed command, a channel, a job of a channel)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from bot.digests.settings import Outcome
from bot.ops.metrics import (
    COMMANDS,
    JOBS,
    OTHER,
    PLATFORMS,
    SKIP_REASONS,
    SOURCES,
    Metrics,
    bounded,
    job_family,
)
from handlers.router import SUBCOMMANDS

ALLOWED = {
    "platform": PLATFORMS | {OTHER},
    "command": COMMANDS | {OTHER},
    "source": SOURCES | {OTHER},
    "reason": SKIP_REASONS,
    "job": JOBS | {OTHER},
    "result": {"new", "updated", "unchanged"},
    "version": None,  # one value: this process's
    "le": None,  # a histogram's buckets
}


def _labels(metrics: Metrics) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}
    text = metrics.render().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            for name, value in sample.labels.items():
                seen.setdefault(name, set()).add(value)
    return seen


def test_every_label_value_comes_from_a_fixed_set() -> None:
    metrics = Metrics()
    now = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    for hostile in ("<script>", "slack:T1:C1", "U123 alice", "search deep learning", "ghost"):
        metrics.send(hostile, "sent", 0.1)
        metrics.send(hostile, "retried", 0.1)
        metrics.limited(hostile)
        metrics.command(hostile, 0.01)
        metrics.ingested(hostile, 1, 2, 3)
        metrics.job_started(f"digest:{hostile}", now - timedelta(seconds=2), now)
        metrics.job_started(hostile, now, now)
    for outcome in Outcome:
        metrics.digest(outcome)
    metrics.outbox({"slack:T1:C1": 2, "discord:300:400!ab": 1, "<weird>": 4}, 12.5)
    seen = _labels(metrics)
    for name, values in seen.items():
        assert name in ALLOWED, f"an unexpected label {name!r}"
        allowed = ALLOWED[name]
        assert allowed is None or values <= allowed, (name, values - (allowed or set()))
    assert OTHER in seen["command"] and OTHER in seen["platform"] and OTHER in seen["source"]


def test_each_subcommand_has_its_own_label_value() -> None:
    assert set(SUBCOMMANDS) <= COMMANDS
    assert bounded("search", COMMANDS) == "search"
    assert bounded("searchx", COMMANDS) == OTHER


def test_jobs_are_labelled_by_their_family() -> None:
    assert job_family("digest:slack:T1:C1") == "digest"
    assert job_family("ingest:hf:start") == "ingest"
    assert job_family("outbox:retry") == "outbox"
    assert job_family("something-new") == OTHER


def test_sends_count_once_each_and_the_outbox_gauges_follow_the_scrape() -> None:
    metrics = Metrics()
    metrics.send("discord", "sent", 0.2)
    metrics.send("discord", "retried", 0.2)
    metrics.send("discord", "failed", 0.2)
    metrics.outbox({"slack:T1:C1": 2, "slack:T1:C2!ab12": 1}, 30.0)
    metrics.digest(Outcome.POSTED)
    metrics.digest(Outcome.NO_MATCH)
    metrics.digest(Outcome.RUNNING)  # not an outcome yet: nothing
    text = metrics.render().decode()
    assert 'paperwire_messages_sent_total{platform="discord"} 1.0' in text
    assert 'paperwire_messages_failed_total{platform="discord"} 2.0' in text
    assert 'paperwire_messages_retried_total{platform="discord"} 1.0' in text
    assert 'paperwire_send_seconds_count{platform="discord"} 3.0' in text
    assert 'paperwire_outbox_depth{platform="slack"} 3.0' in text
    assert "paperwire_outbox_oldest_age_seconds 30.0" in text
    assert "paperwire_digests_posted_total 1.0" in text
    assert 'paperwire_digests_skipped_total{reason="no_match"} 1.0' in text
    assert "_created" not in text
    metrics.outbox({}, None)  # drained: the gauges come back to 0
    text = metrics.render().decode()
    assert 'paperwire_outbox_depth{platform="slack"} 0.0' in text
    assert "paperwire_outbox_oldest_age_seconds 0.0" in text


def test_two_processes_in_one_interpreter_keep_their_own_counts() -> None:
    first, second = Metrics(), Metrics()
    first.alert()
    assert "paperwire_alerts_sent_total 1.0" in first.render().decode()
    assert "paperwire_alerts_sent_total 0.0" in second.render().decode()
