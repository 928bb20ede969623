"""The paper merge rules, as pure functions: which known paper an observation is, and what
the paper becomes with it. No I/O here: a storage backend reads the known papers, asks
`plan_batch` what to write, and writes it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bot.models import Observation, Paper, is_title_key, normalize_title


def merge_paper(old: Paper, obs: Observation, newer: bool) -> Paper:
    """`old` updated with what `obs` adds. Signals refresh only when `obs` is newer; text
    (title, abstract, authors) when it is of a later version, or, versions being equal or
    unknown, newer. Ids, links, sources and categories only ever grow; the links of a later
    version come first (a bioRxiv paper's link names its version). Where it was published
    (DOI, journal reference): the newest known value wins, unknown keeps ours."""
    arxiv_id = old.arxiv_id or obs.arxiv_id
    new = obs.to_paper()
    versions_differ = None not in (obs.version, old.version) and obs.version != old.version
    later = (obs.version or 0) > (old.version or 0)
    current = later if versions_differ else newer
    take = current or not old.abstract
    take_authors = (current or not old.authors) and bool(new.authors)
    return replace(
        old,
        # A title-keyed paper takes the id a source gives it (arXiv id, else DOI).
        id=arxiv_id or (obs.paper_id if is_title_key(old.id) else old.id),
        arxiv_id=arxiv_id,
        title=new.title if current and new.title else old.title,
        abstract=new.abstract if take and new.abstract else old.abstract,
        authors=new.authors if take_authors else old.authors,
        affiliations=new.affiliations if take_authors else old.affiliations,
        published=old.published or new.published,
        links=_union(new.links, old.links) if later else _union(old.links, new.links),
        code_links=_union(old.code_links, new.code_links),
        categories=_union(old.categories, new.categories),
        signals=old.signals.merged_with(new.signals)
        if newer
        else new.signals.merged_with(old.signals),
        sources=_union(old.sources, new.sources),
        version=max(old.version or 0, obs.version or 0) or None,
        doi=new.doi if new.doi and (newer or not old.doi) else old.doi,
        journal_ref=new.journal_ref
        if new.journal_ref and (newer or not old.journal_ref)
        else old.journal_ref,
    )


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a + b))


@dataclass
class Known:
    """Papers already stored that a batch may match, by their storage key."""

    by_id: dict[str, int] = field(default_factory=dict)  # an arXiv id, a DOI or a title key
    by_title: dict[str, int] = field(default_factory=dict)  # by normalised title
    papers: dict[int, Paper] = field(default_factory=dict)
    signals_at: dict[int, str | None] = field(default_factory=dict)

    def add(self, key: int, paper: Paper, signals_at: str | None) -> None:
        self.papers[key] = paper
        self.signals_at[key] = signals_at
        self.by_id[paper.id] = key
        # Prefer the title-keyed record for title matches: that is the one a source
        # without ids created and that an arXiv id (or DOI) should upgrade.
        normalized = normalize_title(paper.title)
        if normalized not in self.by_title or is_title_key(paper.id):
            self.by_title[normalized] = key


@dataclass(frozen=True)
class Pending:
    """A paper a batch is about to write, and when its signals were observed (ISO text)."""

    paper: Paper
    signals_at: str | None
    is_new: bool
    normalized_title: str


@dataclass(frozen=True)
class TrendingRow:
    day: str  # ISO date
    source: str
    key: int  # a stored paper's key, or a new paper's placeholder (below 0)
    rank: int
    upvotes: int | None


@dataclass(frozen=True)
class Plan:
    """What a batch changes: the papers it writes by key (new ones under placeholder keys
    below 0, in the order met), the trending entries it carries, and the counts."""

    touched: dict[int, Pending]
    trending: list[TrendingRow]
    new: int
    updated: int
    unchanged: int


def is_newer(observed_at: str, signals_at: str | None) -> bool:
    """Whether an observation at `observed_at` is at least as new as the stored signals."""
    return signals_at is None or observed_at >= signals_at


def plan_batch(batch: Sequence[Observation], known: Known) -> Plan:
    """Merge a batch into the known papers: the same paper from two sources or two days
    becomes one record, and newer signals refresh older ones. `known` is updated to the
    batch's ids and titles as it goes (a later observation matches an earlier one)."""
    by_id, by_title, original = known.by_id, known.by_title, known.papers
    touched: dict[int, Pending] = {}
    next_placeholder = -1
    trending: list[TrendingRow] = []
    new = updated = unchanged = 0

    for obs in batch:
        key = by_id.get(obs.known_id) if obs.known_id else None
        if key is None:
            key = by_title.get(obs.normalized_title)
            # A title match with a different id (arXiv or DOI) is a different paper.
            if key is not None and obs.known_id:
                found = touched[key].paper if key in touched else original.get(key)
                if found and not is_title_key(found.id) and found.id != obs.known_id:
                    key = None
        observed = obs.observed_at.isoformat()
        if key is None:
            key, next_placeholder = next_placeholder, next_placeholder - 1
            pending = Pending(obs.to_paper(), observed, True, obs.normalized_title)
            new += 1
        else:
            before = touched.get(key) or Pending(
                original[key], known.signals_at.get(key), False, ""
            )
            paper = merge_paper(before.paper, obs, is_newer(observed, before.signals_at))
            same_title = paper.title == obs.title
            pending = Pending(
                paper,
                max(observed, before.signals_at or observed),
                before.is_new,
                obs.normalized_title if same_title else normalize_title(paper.title),
            )
            if paper != before.paper:
                updated += 1
            else:
                unchanged += 1
        touched[key] = pending
        by_id[pending.paper.id] = key
        by_title.setdefault(pending.normalized_title, key)
        if obs.day is not None and obs.rank is not None:
            trending.append(
                TrendingRow(obs.day.isoformat(), obs.source, key, obs.rank, obs.signals.upvotes)
            )
    return Plan(touched, trending, new, updated, unchanged)
