"""What an ingest writes, without a database: keys and change sequences given out, day
lists replaced, and the papers a list move sends back to the search index."""

from dataclasses import replace
from datetime import UTC, date, datetime

from bot.models import Observation
from bot.storage.ingest_plan import carried_lists, list_sizes, paper_changes, write_plan
from bot.storage.merge import Known, plan_batch
from tests.conftest import make_observation

DAY = date(2026, 11, 21)
AT = "2026-11-22T09:30:00+00:00"


def stored(*keyed: tuple[int, Observation]) -> Known:
    """Papers stored under these keys, as these observations made them."""
    known = Known()
    for key, obs in keyed:
        known.add(key, obs.to_paper(), obs.observed_at.isoformat())
    return known


def test_new_papers_take_keys_in_the_order_met_and_each_write_the_next_seq() -> None:
    batch = [
        make_observation(title="First", arxiv_id="2611.00001", day=DAY, rank=2),
        make_observation(title="Second", arxiv_id="2611.00002", day=DAY, rank=1),
    ]
    plan = plan_batch(batch, Known())
    writes = write_plan(plan, {}, {(DAY.isoformat(), "hf"): []}, AT, seq=40, first_pk=7)

    assert [(row[1], row[-4:]) for row in writes.inserts] == [
        ("2611.00001", (AT, AT, 40, 7)),
        ("2611.00002", (AT, AT, 41, 8)),
    ]
    assert writes.updates == [] and writes.reindexed == []
    assert writes.replaced_lists == [(DAY.isoformat(), "hf")]
    assert writes.trending == [
        (DAY.isoformat(), "hf", 7, 2, None),
        (DAY.isoformat(), "hf", 8, 1, None),
    ]


def test_only_a_changed_paper_is_rewritten() -> None:
    three, four = (make_observation(title=f"Paper {n}", arxiv_id=f"2611.0000{n}") for n in (3, 4))
    known = stored((3, three), (4, four))
    papers = dict(known.papers)
    batch = [replace(three, abstract="A new abstract."), four]  # four: seen again, the same
    at = datetime(2026, 11, 22, tzinfo=UTC)  # PostgreSQL passes a datetime as it is
    writes = write_plan(plan_batch(batch, known), papers, {}, at, seq=10, first_pk=5)

    assert [(row[0], row[4], row[-3:]) for row in writes.updates] == [
        ("2611.00003", "A new abstract.", (at, 10, 3))
    ]
    assert writes.inserts == [] and writes.reindexed == []
    assert writes.trending == [] and writes.replaced_lists == []


def test_a_stored_paper_joining_or_leaving_a_list_is_reindexed_after_the_writes() -> None:
    three, nine = (make_observation(title=f"Paper {n}", arxiv_id=f"2611.0000{n}") for n in (3, 9))
    known = stored((3, three), (9, nine), (6, make_observation(title="Six", arxiv_id="2611.06")))
    papers = dict(known.papers)
    day = DAY.isoformat()
    # On the stored list: 9 and 6. The batch's list: a new paper, 3 (unchanged), 6 (changed).
    batch = [
        make_observation(title="New", arxiv_id="2611.00010", day=DAY, rank=1),
        replace(three, day=DAY, rank=2),
        make_observation(title="Six", arxiv_id="2611.06", abstract="Changed.", day=DAY, rank=3),
    ]
    plan = plan_batch(batch, known)
    assert carried_lists(plan) == {(day, "hf"): {-1, 3, 6}}
    writes = write_plan(plan, papers, {(day, "hf"): [9, 6]}, AT, seq=20, first_pk=11)

    assert [row[-2:] for row in writes.inserts] == [(20, 11)]
    assert [row[-2:] for row in writes.updates] == [(21, 6)]
    # 3 joined and 9 left: both reindexed after the writes; 6 was rewritten anyway.
    assert writes.reindexed == [(22, 3), (23, 9)]
    assert writes.trending == [
        (day, "hf", 11, 1, None),
        (day, "hf", 3, 2, None),
        (day, "hf", 6, 3, None),
    ]


def test_list_sizes_count_each_paper_once_and_keep_empty_fetched_lists() -> None:
    batch = [
        make_observation(arxiv_id="2611.00001", day=DAY, rank=1),
        make_observation(arxiv_id="2611.00001", day=DAY, rank=3),
        make_observation(arxiv_id="2611.00002", day=DAY, rank=2),
        make_observation(arxiv_id="2611.00003", day=DAY, source="arxiv", rank=1),
        make_observation(arxiv_id="2611.00004"),  # on no list
    ]
    fetched = [(date(2026, 11, 20), "hf"), (DAY, "hf")]
    assert list_sizes(batch, fetched) == [
        (date(2026, 11, 20), "hf", 0),
        (DAY, "arxiv", 1),
        (DAY, "hf", 2),
    ]


def test_the_changes_a_saver_hears_of() -> None:
    hf = make_observation(title="From HF", arxiv_id="2611.00001")  # no version: v1
    v2 = make_observation(title="Versioned", arxiv_id="2611.00002v2")
    known = stored((1, hf), (2, v2))
    papers = dict(known.papers)
    batch = [
        replace(hf, version=1, journal_ref="Nature 612 (2026)"),  # v1 is no news
        replace(v2, version=3, journal_doi="10.1000/a"),
        replace(v2, version=2),  # an older version, seen after: changes nothing
        make_observation(title="New", arxiv_id="2611.00003v4", journal_doi="10.1000/b"),
    ]
    assert paper_changes(plan_batch(batch, known), papers) == [
        (1, "journal_ref", "Nature 612 (2026)"),
        (2, "version", "3"),
        (2, "doi", "10.1000/a"),
    ]  # a new paper has no savers yet
    # The same again: nothing.
    again = stored((2, replace(v2, version=3, journal_doi="10.1000/a")))
    seen = [replace(v2, version=3, journal_doi="https://doi.org/10.1000/a")]
    assert paper_changes(plan_batch(seen, again), dict(again.papers)) == []
