"""The Hugging Face daily papers parser, on 43 real days and on broken payloads."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.models import Observation
from bot.sources.errors import SourceError
from bot.sources.hf_daily import SOURCE, DailyPage, parse_daily_papers

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


def load(fixtures_dir: Path, day: str) -> Any:
    return json.loads((fixtures_dir / "hf_daily" / f"{day}.json").read_text(encoding="utf-8"))


def parse_day(fixtures_dir: Path, day: str) -> DailyPage:
    return parse_daily_papers(load(fixtures_dir, day), date.fromisoformat(day), NOW)


def all_pages(fixtures_dir: Path) -> list[DailyPage]:
    paths = sorted((fixtures_dir / "hf_daily").glob("*.json"))
    return [parse_day(fixtures_dir, path.stem) for path in paths]


def by_id(page: DailyPage, arxiv_id: str) -> Observation:
    return next(obs for obs in page.observations if obs.arxiv_id == arxiv_id)


def test_every_fixture_day_imports_whole(fixtures_dir: Path) -> None:
    pages = all_pages(fixtures_dir)
    observations = [obs for page in pages for obs in page.observations]
    assert len(pages) == 43
    assert all(page.skipped == () for page in pages)
    assert len(observations) == 855
    counts = Counter(obs.arxiv_id for obs in observations)
    assert len(counts) == 853
    assert sorted(str(i) for i, n in counts.items() if n > 1) == ["2608.12313", "2608.13558"]
    assert None not in counts
    assert all(obs.source == SOURCE == "hf" and obs.observed_at == NOW for obs in observations)
    assert all(obs.title and obs.abstract and obs.authors for obs in observations)
    assert all(obs.published is not None for obs in observations)


def test_day_and_rank_follow_the_list(fixtures_dir: Path) -> None:
    page = parse_day(fixtures_dir, "2026-08-21")
    assert page.day == date(2026, 8, 21)
    assert [obs.rank for obs in page.observations] == list(range(1, 18))
    assert {obs.day for obs in page.observations} == {date(2026, 8, 21)}
    later = parse_daily_papers(load(fixtures_dir, "2026-08-21"), page.day, NOW, first_rank=51)
    assert [obs.rank for obs in later.observations][:2] == [51, 52]


def test_a_2026_item_keeps_every_field_a_digest_uses(fixtures_dir: Path) -> None:
    obs = parse_day(fixtures_dir, "2026-08-21").observations[0]
    assert obs.arxiv_id == "2608.19880"
    assert obs.title == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert obs.abstract.startswith("LLM agents learn by interacting with environments")
    assert obs.authors[:2] == ("Chengsong Huang", "Zifeng Wang")
    assert len(obs.authors) == 17
    # paper.publishedAt (2026-08-20) is neither the item's publishedAt nor the list's day.
    assert obs.published == date(2026, 8, 20)
    assert obs.links == ("https://huggingface.co/papers/2608.19880",)
    signals = obs.signals
    assert signals.upvotes == 163
    assert signals.comments == 1
    assert signals.github_repo == "https://github.com/google-research/envharness"
    assert signals.github_stars == 8
    assert signals.project_page == "https://envharness.com/"
    assert signals.ai_summary is not None and signals.ai_summary.startswith("EnvHarness and")
    assert signals.ai_keywords[:3] == ("LLM agents", "Environment Harness", "EnvHarness")
    assert signals.thumbnail == (
        "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2608.19880.png"
    )
    assert signals.organization == "Google"


def test_titles_lose_their_hard_wrapping(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "2024-05-27")
    assert "\n" in raw[0]["paper"]["title"]
    obs = parse_day(fixtures_dir, "2024-05-27").observations[0]
    assert obs.title == (
        "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal Models"
    )
    every = [obs for page in all_pages(fixtures_dir) for obs in page.observations]
    assert not any("\n" in obs.title or "  " in obs.title for obs in every)
    assert not any("\n" in obs.abstract for obs in every)


def test_the_2024_shape_reads_its_singular_media_url_as_thumbnail(fixtures_dir: Path) -> None:
    page = parse_day(fixtures_dir, "2024-05-27")
    assert len(page.observations) == 13
    obs = page.observations[0]
    assert obs.arxiv_id == "2405.15738"
    assert obs.signals.thumbnail == (
        "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2405.15738.png"
    )
    assert obs.signals.comments == 3
    assert obs.signals.ai_summary is None and obs.signals.ai_keywords == ()
    assert obs.signals.organization is None


def test_paper_title_wins_over_the_item_title_with_raw_latex(fixtures_dir: Path) -> None:
    obs = by_id(parse_day(fixtures_dir, "2024-05-27"), "2405.14906")
    assert obs.title == "AutoCoder: Enhancing Code Large Language Model with AIEV-Instruct"


def test_days_without_ai_summary_leave_it_unknown(fixtures_dir: Path) -> None:
    without = parse_day(fixtures_dir, "2026-07-20").observations
    assert all(obs.signals.ai_summary is None for obs in without)
    assert all(obs.signals.ai_keywords == () for obs in without)
    with_ai = parse_day(fixtures_dir, "2026-08-12").observations
    assert all(obs.signals.ai_summary for obs in with_ai)
    assert sum(bool(obs.signals.ai_keywords) for obs in with_ai) > 0


def test_zero_upvotes_are_kept_as_zero(fixtures_dir: Path) -> None:
    page = parse_day(fixtures_dir, "2025-10-03")
    last = page.observations[-1]
    assert last.signals.upvotes == 0
    assert last.rank == 39
    every = [obs for page in all_pages(fixtures_dir) for obs in page.observations]
    assert sum(obs.signals.upvotes == 0 for obs in every) == 47
    assert all(obs.signals.upvotes is not None for obs in every)


def test_non_ascii_titles_survive(fixtures_dir: Path) -> None:
    obs = by_id(parse_day(fixtures_dir, "2026-08-12"), "2608.07645")
    assert obs.title.startswith("Mendel Gödel Machine")
    omega = by_id(parse_day(fixtures_dir, "2026-07-01"), "2606.31029")
    assert omega.title.startswith("TerraDiT-\u03a9:")


def test_hidden_authors_stay_under_their_paper_name(fixtures_dir: Path) -> None:
    obs = by_id(parse_day(fixtures_dir, "2026-07-21"), "2607.18227")
    assert obs.authors[0] == "Dingyun Zhang"
    assert not any("Mystery099" in name or "Laurentiis" in name for name in obs.authors)


def test_stray_spaces_in_a_project_page_are_trimmed(fixtures_dir: Path) -> None:
    every = [obs for page in all_pages(fixtures_dir) for obs in page.observations]
    pages = [obs.signals.project_page for obs in every if obs.signals.project_page]
    assert "https://sites.google.com/view/adc-robot" in pages
    assert all(page == page.strip() for page in pages)


def test_a_repo_without_stars_keeps_stars_unknown(fixtures_dir: Path) -> None:
    obs = next(
        obs
        for obs in parse_day(fixtures_dir, "2026-07-01").observations
        if obs.signals.github_repo == "https://github.com/DavydenkoGr/AFTER"
    )
    assert obs.signals.github_stars is None


# ---------------------------------------------------------------- malformed payloads

DAY = date(2026, 8, 21)


def item(**paper: Any) -> dict[str, Any]:
    base = {"id": "2608.00001", "title": "A Title", "summary": "An abstract.", "upvotes": 3}
    return {"paper": {**base, **paper}, "numComments": 2}


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"error": "Invalid date"}, "the API answered an error: 'Invalid date'"),
        ({"papers": []}, "expected a list of papers, got an object (keys: papers)"),
        ('[{"paper": ', "expected a list of papers, got str"),
        (None, "expected a list of papers, got NoneType"),
    ],
)
def test_a_payload_that_is_not_a_list_raises(payload: Any, expected: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_daily_papers(payload, DAY, NOW)
    message = str(caught.value)
    assert message.startswith("Hugging Face daily papers for 2026-08-21: ")
    assert expected in message
    assert caught.value.source == "Hugging Face daily papers for 2026-08-21"


def test_an_error_message_does_not_dump_a_huge_payload() -> None:
    with pytest.raises(SourceError) as caught:
        parse_daily_papers({"error": "x" * 100_000}, DAY, NOW)
    assert len(str(caught.value)) < 250


def test_bad_items_are_skipped_and_named_while_good_ones_keep_their_rank() -> None:
    payload = [
        item(title="First"),
        "garbage",
        {"paper": {"id": "2608.00002"}},
        None,
        item(id="2608.00005", title="Fifth"),
        item(title="Repeat of the first"),
    ]
    page = parse_daily_papers(payload, DAY, NOW)
    assert [(obs.title, obs.rank) for obs in page.observations] == [("First", 1), ("Fifth", 5)]
    assert page.skipped == (
        "rank 2: not an object but str: 'garbage'",
        "rank 3 (2608.00002): no title",
        "rank 4: not an object but NoneType: None",
        "rank 6 (2608.00001): repeats rank 1",
    )


def test_an_empty_list_is_an_empty_day() -> None:
    assert parse_daily_papers([], DAY, NOW) == DailyPage(DAY, (), ())


def test_wrong_types_in_optional_fields_read_as_unknown() -> None:
    payload = [
        {
            "paper": {
                "id": "2608.00001",
                "title": "Typed Wrong",
                "summary": 42,
                "authors": [{"name": "Ada"}, "Bob", {"name": None}, {"name": "  "}],
                "upvotes": True,
                "githubStars": "12",
                "githubRepo": "not a url",
                "projectPage": ["https://x.org"],
                "ai_summary": "",
                "ai_keywords": "one, two",
                "organization": "HF",
                "publishedAt": "yesterday",
            },
            "numComments": -1,
            "thumbnail": 7,
            "organization": {"name": "hf-handle"},
        }
    ]
    (obs,) = parse_daily_papers(payload, DAY, NOW).observations
    assert obs.title == "Typed Wrong"
    assert obs.abstract == ""
    assert obs.authors == ("Ada",)
    assert obs.published is None
    s = obs.signals
    assert (s.upvotes, s.comments, s.github_stars) == (None, None, None)
    assert (s.github_repo, s.project_page, s.ai_summary, s.thumbnail) == (None,) * 4
    assert s.ai_keywords == ()
    # paper.organization is not an object, so the item's organization is used instead.
    assert s.organization == "hf-handle"


def test_a_paper_without_title_or_abstract_falls_back_to_the_item_fields() -> None:
    payload = [
        {"paper": {"id": "2608.00003"}, "title": "Only\n  Item Level", "summary": "Abstract."},
        {"title": "No paper object", "summary": "So no id either."},
    ]
    page = parse_daily_papers(payload, DAY, NOW)
    (obs,) = page.observations
    assert (obs.title, obs.abstract, obs.arxiv_id, obs.links) == (
        "Only Item Level",
        "Abstract.",
        "2608.00003",
        ("https://huggingface.co/papers/2608.00003",),
    )
    assert page.skipped == ("rank 2: no paper id",)


def test_a_list_of_other_papers_in_the_same_shape_is_refused() -> None:
    # A PubMed list dressed like the API: no arXiv ids, so no trending list and no links.
    pubmed = [item(id=pmid, title=f"Trial {pmid}") for pmid in ("38212345", "38212346")]
    page = parse_daily_papers([*pubmed, item(id="hep-th/9901001", title="Old style")], DAY, NOW)
    assert [(obs.arxiv_id, obs.rank) for obs in page.observations] == [("hep-th/9901001", 3)]
    assert page.refused == ("38212345", "38212346")
    assert page.skipped == ()


def test_a_truncated_list_of_garbage_skips_everything() -> None:
    page = parse_daily_papers([1, [], {"paper": "x"}, {"paper": {"title": "   "}}], DAY, NOW)
    assert page.observations == ()
    assert len(page.skipped) == 4
