"""Rows decode to the same values whichever backend read them: SQLite's ISO text, integer
booleans and JSON text, or PostgreSQL's datetimes, dates, booleans and decoded jsonb."""

from datetime import date, datetime, time, timedelta
from typing import Any

from bot.digests.settings import Outcome
from bot.models import Destination
from bot.storage.decode import (
    alert_settings_from_row,
    destination_state_from_row,
    digest_run_from_row,
    digest_settings_from_row,
    due_in_order,
    index_row_from_row,
    list_state_from_row,
    outbox_head_from_row,
    papers_with_trending,
    process_beat_from_row,
    queued_message_from_row,
    subscription_from_row,
)
from bot.storage.rows import as_date, as_datetime
from tests.conftest import NOW

DAY = date(2026, 11, 21)


def as_text(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """`row` as SQLite hands it over: times and dates as ISO text, booleans as integers."""
    return tuple(
        v.isoformat() if isinstance(v, date) else int(v) if isinstance(v, bool) else v for v in row
    )


def test_dates_and_times_from_text_or_native_values() -> None:
    assert as_date("2026-11-21") == as_date(DAY) == DAY
    assert as_datetime(NOW.isoformat()) == as_datetime(NOW) == NOW
    assert as_date(None) is as_date("") is as_datetime(None) is as_datetime("") is None


def test_each_decoder_reads_both_representations_alike() -> None:
    later = NOW + timedelta(hours=1)
    owner = Destination("slack", "T1", "D1").key
    cases = [
        (list_state_from_row, (DAY, "hf", 12, NOW, later, None)),
        (list_state_from_row, (DAY, "hf", 12, NOW, later, later)),
        (digest_run_from_row, ("slack:T1:C1", DAY, NOW, "posted", later, DAY, 5, None)),
        (digest_run_from_row, ("slack:T1:C1", DAY, NOW, "running", None, None, 0, "x")),
        (subscription_from_row, (3, owner, "agents", NOW, None, None)),
        (subscription_from_row, (3, owner, "agents", NOW, later, "A title")),
        (destination_state_from_row, ("slack:T1:C1", None, "gone", later, NOW)),
        (outbox_head_from_row, ("slack:T1:C1", 2, "sending", 1, later, "busy")),
        (process_beat_from_row, ("host:1:ab", NOW, later, True, "v1")),
        (process_beat_from_row, ("host:1:ab", NOW, later, False, "")),
    ]
    for decode, native in cases:
        assert decode(as_text(native)) == decode(native), decode.__name__
    run = digest_run_from_row(("slack:T1:C1", DAY, NOW, "posted", later, DAY, 5, None))
    assert (run.run_day, run.started_at, run.outcome) == (DAY, NOW, Outcome.POSTED)


def test_settings_decode_alike_with_their_clock_times_as_text() -> None:
    settings = ("slack:T1:C1", True, "08:30", "Europe/Paris", "mon,tue", 5, None, "full")
    native = (*settings, "latest", NOW, False, None, None, None)
    decoded = digest_settings_from_row(native)
    assert digest_settings_from_row(as_text(native)) == decoded
    assert decoded.updated_at == NOW and decoded.weekdays == ("mon", "tue")
    assert decoded.time == time(8, 30) and decoded.enabled and not decoded.taste
    assert decoded.recap_day is None and decoded.recap_at == time(8, 30)
    recap = digest_settings_from_row((*native[:11], "sun", "17:00", "ml-reading"))
    assert (recap.recap_day, recap.recap_at, recap.recap_name) == ("sun", time(17), "ml-reading")
    owner = Destination("slack", "T1", "D1")
    for paused in (None, NOW):
        row = ("09:00", "UTC", paused)
        alert = alert_settings_from_row(owner, row)
        assert alert_settings_from_row(owner, as_text(row)) == alert
        assert alert.paused_until == paused


def queued(id: int, destination: str, due: datetime) -> tuple[Any, ...]:
    return (id, destination, "{}", ["2611.00001"], "pending", 0, due, None, 0, NOW)


def test_due_in_order_stops_each_destination_at_its_first_message_not_due() -> None:
    later = NOW + timedelta(minutes=5)
    rows = [
        queued(1, "a", NOW),
        queued(4, "a", later),  # not due: 5 waits behind it, though due
        queued(5, "a", NOW),
        queued(2, "b", NOW - timedelta(minutes=1)),
        queued(3, "b", NOW),
    ]
    due = due_in_order(rows, NOW)
    assert [m.id for m in due] == [1, 2, 3]
    assert due[0] == queued_message_from_row(rows[0])
    assert due[0].paper_ids == ("2611.00001",) and due[0].created_at == NOW
    # SQLite's rows: the JSON and the times as text.
    text = [(*as_text(r)[:3], '["2611.00001"]', *as_text(r)[4:]) for r in rows]
    assert due_in_order(text, NOW) == due


def test_index_days_are_the_days_trended_else_the_day_published() -> None:
    head = (7, 30, "Title", "Abstract.", '["Ada"]', ["cs.LG"])
    trended = [DAY, date(2026, 11, 23)]
    sqlite_row = index_row_from_row((*head, "2026-11-01", "2026-11-23,2026-11-21"))
    pg_row = index_row_from_row((*head, date(2026, 11, 1), trended))
    assert sqlite_row == pg_row
    assert pg_row.days == (DAY, date(2026, 11, 23))
    assert pg_row.authors == ("Ada",) and pg_row.categories == ("cs.LG",)
    assert index_row_from_row((*head, "2026-11-01", None)).days == (date(2026, 11, 1),)
    assert index_row_from_row((*head, date(2026, 11, 1), [])).days == (date(2026, 11, 1),)
    assert index_row_from_row((*head, None, [])).days == ()


def test_papers_come_with_their_trending_entries_in_the_rows_order() -> None:
    paper = (1, "2611.00001", "2611.00001", "Title", "", '["Ada"]', "2026-11-01")
    rest = ("[]", "[]", '["cs.LG"]', "{}", None, '["hf"]', 1, "[]", "10.1/x", "J. 1 (2026)")
    other = (2, "2611.00002", "2611.00002", "Other", "", "[]", None, *rest)
    trending = [(1, "2026-11-23", "hf", 2, 40), (1, DAY, "arxiv", 5, None)]
    found = papers_with_trending([(*paper, *rest), other], trending)
    assert [(e.day, e.source) for e in found[1].trending] == [
        (date(2026, 11, 23), "hf"),
        (DAY, "arxiv"),
    ]
    assert found[2].trending == () and found[1].published == date(2026, 11, 1)
    assert found[1].authors == ("Ada",) and found[1].version == 1
    assert (found[1].doi, found[1].journal_ref) == ("10.1/x", "J. 1 (2026)")
