"""The bundled trending-paper pages (`seeds/`): the offline default corpus.

A page is a few header lines, a `Mon D` date line with no year, then title / abstract pairs
in the page's order, which is that day's trending rank.

The year is not on the page. We take the latest year in which that month and day is not
after the reference date (today by default, or `--year` to pin it). Pages are read in file
name order; two pages of the same day add up to one list, each paper keeping its first rank.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

from bot.errors import UserError
from bot.models import Observation

SOURCE = "seeds"
_DATE_LINE = re.compile(
    r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? (\d{1,2})$", re.I
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass(frozen=True)
class SeedPage:
    path: str
    day: date
    entries: tuple[tuple[str, str], ...]  # (title, abstract) in rank order


def bundled_pages() -> list[Path]:
    """The pages shipped in the `seeds` package, in file name order."""
    folder = resources.files("seeds")
    return sorted(
        (Path(str(p)) for p in folder.iterdir() if p.name.endswith(".txt")),
        key=lambda p: p.name,
    )


def resolve_year(month: int, day: int, reference: date) -> date:
    """The latest date with this month and day that is not after `reference`."""
    for year in (reference.year, reference.year - 1, reference.year - 2):
        try:
            candidate = date(year, month, day)
        except ValueError:  # 29 February outside a leap year
            continue
        if candidate <= reference:
            return candidate
    raise UserError(f"{_MONTHS[month - 1].title()} {day} is not a valid date")


def parse_page(text: str, path: str, reference: date, year: int | None = None) -> SeedPage:
    """One page; raises `UserError` naming the file when it is not in the page format."""
    lines = [line.strip() for line in text.splitlines()]
    found = next(((i, m) for i, line in enumerate(lines) if (m := _DATE_LINE.match(line))), None)
    if found is None:
        raise UserError(f"{path}: no date line such as 'Mar 11' found; is this a seeds page?")
    index, match = found
    month = _MONTHS.index(match.group(1)[:3].lower()) + 1
    day_of_month = int(match.group(2))
    if year is not None:
        try:
            day = date(year, month, day_of_month)
        except ValueError as exc:
            raise UserError(f"{path}: {match.group(0)} {year} is not a valid date") from exc
    else:
        day = resolve_year(month, day_of_month, reference)
    body = [line for line in lines[index + 1 :] if line]
    entries = tuple(
        (body[i], body[i + 1] if i + 1 < len(body) else "") for i in range(0, len(body), 2)
    )
    if not entries:
        raise UserError(f"{path}: the page has a date but no papers")
    return SeedPage(path, day, entries)


def read_pages(
    paths: Iterable[Path], reference: date | None = None, year: int | None = None
) -> list[SeedPage]:
    reference = reference or datetime.now(UTC).date()
    pages = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read {path}: {exc}") from exc
        pages.append(parse_page(text, str(path), reference, year))
    return pages


def observations(pages: Iterable[SeedPage], observed_at: datetime) -> Iterator[Observation]:
    """Observations in page order; a day spread over two pages continues its ranks."""
    next_rank: dict[date, int] = {}
    for page in pages:
        for title, abstract in page.entries:
            rank = next_rank.get(page.day, 1)
            next_rank[page.day] = rank + 1
            yield Observation(
                title=title,
                abstract=abstract,
                source=SOURCE,
                observed_at=observed_at,
                day=page.day,
                rank=rank,
            )
