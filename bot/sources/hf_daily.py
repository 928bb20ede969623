"""Hugging Face daily papers: `GET /api/daily_papers?date=YYYY-MM-DD` as `Observation`s.

The payload is a JSON list in the API's order, which is the day's trending rank. Each item
is `{"paper": {...}, "title", "summary", "publishedAt", "thumbnail", "numComments", ...}`;
the paper object carries the arXiv id, authors, upvotes and the optional extras (GitHub
repo and stars, project page, AI summary and keywords, organization).

Decisions:
- A payload that is not a list (an error object such as `{"error": "..."}`, a string, None)
  raises `SourceError`. A bad item inside a good list is skipped and named in
  `DailyPage.skipped`; the other items keep their API position as rank, so a skipped item
  leaves a gap in the ranks rather than moving everyone below it up.
- An item needs an arXiv id (`paper.id`, old or new style) and a title (`paper.title`,
  else the item's `title`). Hugging Face lists only arXiv papers: a list in the same shape
  whose ids are not arXiv ids (a PubMed export, say) is not a trending list, so such items
  are refused (`DailyPage.refused`, for one warning with their count) rather than given
  made-up paper pages. A missing or malformed optional field (wrong type, blank, not a
  URL) reads as unknown, never as 0.
- Authors marked `hidden: true` are kept. `hidden` only says the author hid the paper from
  their Hugging Face profile; the name is the paper's public (arXiv) author list, and
  dropping it would change the author order. We read `name`, never the linked account's
  `user.fullname`, so the account a hidden author chose not to show stays unlinked.
- The same arXiv id twice in one list keeps its first (better) rank; the repeat is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from bot.models import Observation, Signals, clean_text, normalize_arxiv_id
from bot.sources.errors import BadEntry, SourceError, excerpt

SOURCE = "hf"
PAPER_PAGE = "https://huggingface.co/papers/{}"
_SOURCE_NAME = "Hugging Face daily papers"


@dataclass(frozen=True)
class DailyPage:
    """One fetched page of a day's list.

    `skipped` holds one reason per item left out, such as `"rank 7 (2608.00007): no
    title"`, for the caller to log; `refused` the ids of items that are not arXiv papers
    (see the module docstring). `observations` are in API order.
    """

    day: date
    observations: tuple[Observation, ...]
    skipped: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()


class _Refused(ValueError):
    """An item whose id is not an arXiv id; the message is the id."""


def parse_daily_papers(
    payload: Any, day: date, observed_at: datetime, first_rank: int = 1
) -> DailyPage:
    """The observations of one day's list (or of one page of it, ranked from `first_rank`).

    Raises `SourceError` when the payload as a whole is not a list of papers.
    """
    items = _items(payload, day)
    observations: list[Observation] = []
    skipped: list[str] = []
    refused: list[str] = []
    first_rank_of: dict[str, int] = {}
    for index, item in enumerate(items):
        rank = first_rank + index
        try:
            obs = _observation(item, day, rank, observed_at)
        except BadEntry as exc:
            skipped.append(exc.at(f"rank {rank}"))
            continue
        except _Refused as exc:
            refused.append(str(exc))
            continue
        paper_id = obs.paper_id
        if paper_id in first_rank_of:
            skipped.append(f"rank {rank} ({paper_id}): repeats rank {first_rank_of[paper_id]}")
            continue
        first_rank_of[paper_id] = rank
        observations.append(obs)
    return DailyPage(day, tuple(observations), tuple(skipped), tuple(refused))


def _items(payload: Any, day: date) -> list[Any]:
    """The list of items; anything else is an error page or a broken response."""
    if isinstance(payload, list):
        return payload
    where = f"{_SOURCE_NAME} for {day.isoformat()}"
    if isinstance(payload, Mapping):
        message = payload.get("error")
        if message is not None:
            raise SourceError(where, f"the API answered an error: {excerpt(message)}")
        keys = ", ".join(sorted(str(key) for key in payload)[:8]) or "none"
        raise SourceError(where, f"expected a list of papers, got an object (keys: {keys})")
    raise SourceError(
        where, f"expected a list of papers, got {type(payload).__name__}: {excerpt(payload)}"
    )


def _observation(item: Any, day: date, rank: int, observed_at: datetime) -> Observation:
    if not isinstance(item, Mapping):
        raise BadEntry(f"not an object but {type(item).__name__}: {excerpt(item, 60)}")
    paper = item.get("paper")
    if not isinstance(paper, Mapping):
        paper = {}
    raw_id = _text(paper, "id")
    if raw_id is None:
        raise BadEntry("no paper id")
    if normalize_arxiv_id(raw_id) is None:
        raise _Refused(raw_id)
    # `paper.title` first: the item's own title can hold raw LaTeX (`\textsc{...}` in 2024).
    title = _text(paper, "title") or _text(item, "title")
    if title is None:
        raise BadEntry("no title", raw_id)
    return Observation(
        title=title,
        source=SOURCE,
        observed_at=observed_at,
        abstract=_text(paper, "summary") or _text(item, "summary") or "",
        authors=_authors(paper.get("authors")),
        arxiv_id=raw_id,
        published=_date(paper.get("publishedAt")),
        links=(PAPER_PAGE.format(quote(raw_id, safe="./")),),
        signals=_signals(item, paper),
        day=day,
        rank=rank,
    )


def _signals(item: Mapping[str, Any], paper: Mapping[str, Any]) -> Signals:
    return Signals(
        upvotes=_count(paper, "upvotes"),
        comments=_count(item, "numComments"),
        github_repo=_url(paper, "githubRepo"),
        github_stars=_count(paper, "githubStars"),
        project_page=_url(paper, "projectPage"),
        ai_summary=_text(paper, "ai_summary"),
        ai_keywords=_keywords(paper.get("ai_keywords")),
        # 2024 items have no `thumbnail`; their singular `mediaUrl` is the same social card.
        thumbnail=_url(item, "thumbnail") or _url(item, "mediaUrl"),
        organization=_organization(paper.get("organization"))
        or _organization(item.get("organization")),
    )


def _text(obj: Mapping[str, Any], key: str) -> str | None:
    """A non-blank string field with its whitespace collapsed; anything else is unknown."""
    value = obj.get(key)
    if not isinstance(value, str):
        return None
    return clean_text(value) or None


def _count(obj: Mapping[str, Any], key: str) -> int | None:
    """A non-negative integer; 0 is a real value (an early snapshot), not unknown.

    `bool` is an `int` subclass in Python, so `true` must be refused explicitly.
    """
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _url(obj: Mapping[str, Any], key: str) -> str | None:
    """An http(s) URL; user-entered ones can carry stray spaces (`" https://sites..."`)."""
    value = _text(obj, key)
    if value is None or " " in value or not value.lower().startswith(("http://", "https://")):
        return None
    return value


def _date(value: Any) -> date | None:
    """The UTC date of an ISO timestamp such as `2024-05-24T17:34:15.000Z`."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def _authors(value: Any) -> tuple[str, ...]:
    """Author names in order, hidden ones included (see the module docstring)."""
    if not isinstance(value, list):
        return ()
    names = (_text(author, "name") for author in value if isinstance(author, Mapping))
    return tuple(name for name in names if name)


def _keywords(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    words = (clean_text(word) for word in value if isinstance(word, str))
    return tuple(dict.fromkeys(word for word in words if word))


def _organization(value: Any) -> str | None:
    """The organization's display name (`fullname`), else its handle (`name`)."""
    if not isinstance(value, Mapping):
        return None
    return _text(value, "fullname") or _text(value, "name")
