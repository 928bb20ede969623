"""Domain model: papers, the signals sources give about them, and trending lists.

Everything here is a frozen value object; nothing reads a platform or source payload.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Literal

# New-style ids (2509.04664, optionally v2) and old-style ids (astro-ph/0601001v1).
_ARXIV_NEW = re.compile(r"^(\d{4}\.\d{4,5})(v\d+)?$")
_ARXIV_OLD = re.compile(r"^([a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(v\d+)?$")
_ARXIV_URL_PREFIX = re.compile(r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/", re.I)
_WORDS = re.compile(r"[^\W_]+")
_DOI_PREFIX = re.compile(r"^(?:doi:|https?://(?:dx\.)?doi\.org/)", re.I)
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_CODE_URL = re.compile(
    r"https?://(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co|bitbucket\.org)"
    r"/[\w.\-]+/[\w.\-]+",
    re.I,
)


def normalize_arxiv_id(raw: str | None) -> str | None:
    """The arXiv id without its version, or None when `raw` is not an arXiv id."""
    match = _match_arxiv_id(raw)
    return match.group(1) if match else None


def arxiv_version(raw: str | None) -> int | None:
    """The version an arXiv id names (`2509.04664v2` is 2), None when it names none."""
    match = _match_arxiv_id(raw)
    return int(match.group(2)[1:]) if match and match.group(2) else None


def _match_arxiv_id(raw: str | None) -> re.Match[str] | None:
    if not raw:
        return None
    text = _ARXIV_URL_PREFIX.sub("", raw.strip())
    text = text.removeprefix("arXiv:").removeprefix("arxiv:")
    text = text.removesuffix(".pdf")
    return _ARXIV_NEW.match(text) or _ARXIV_OLD.match(text)


def normalize_doi(raw: str | None) -> str | None:
    """A DOI as `10.1103/PhysRevB.85.115117`, without `doi:` or a doi.org URL before it;
    of several (arXiv separates them with spaces) the first, the main article's. None when
    `raw` holds no DOI."""
    if not raw:
        return None
    first = (scrub_text(raw).split() or [""])[0]
    doi = _DOI_PREFIX.sub("", first).rstrip(".,;")
    return doi if _DOI.match(doi) else None


def is_title_key(paper_id: str) -> bool:
    """Whether `paper_id` was made from a title (no source gave the paper an id)."""
    return paper_id.startswith("t-")


def normalize_title(title: str) -> str:
    """A title reduced to lowercase ASCII words, so that wrapping, accents and
    punctuation do not make the same paper look like two."""
    folded = title.lower()
    if not folded.isascii():
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(_WORDS.findall(folded))


def title_key(title: str) -> str:
    """The stable id of a paper no source gave an id (arXiv id or DOI)."""
    digest = hashlib.sha1(normalize_title(title).encode("utf-8")).hexdigest()
    return f"t-{digest[:16]}"


# Control characters that are not whitespace: NUL, ESC (ANSI sequences), DEL, C1 controls.
# The whitespace ones (tab, newlines, \x1c-\x1f, NEL) are left for `clean_text` to collapse.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


def scrub_text(text: str) -> str:
    """`text` without what no store or platform can take: a lone surrogate (JSON can carry
    a `"\\ud800"` escape; UTF-8, and so SQLite, cannot encode it) becomes U+FFFD, and
    control characters other than whitespace are removed."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A valid pair joins into its character; a lone half becomes U+FFFD.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return _CONTROLS.sub("", text)


def clean_text(text: str | None) -> str:
    """Collapse the hard wrapping and runs of whitespace sources put in titles and abstracts,
    after `scrub_text`."""
    if not text:
        return ""
    return " ".join(scrub_text(text).split())


def _clean_all(texts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(text for text in map(clean_text, texts) if text)


def _clean_authors(
    authors: tuple[str, ...], affiliations: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Cleaned names, and the affiliations that go with them (one per name, when given):
    a name that cleans to nothing goes with its affiliation, so the two stay in step."""
    if not affiliations:
        return _clean_all(authors), ()
    padded = (*affiliations, *[""] * (len(authors) - len(affiliations)))
    pairs = [
        (name, clean_text(affiliation))
        for name, affiliation in zip(map(clean_text, authors), padded, strict=False)
        if name
    ]
    return tuple(n for n, _ in pairs), tuple(a for _, a in pairs)


def find_code_links(text: str) -> tuple[str, ...]:
    """Repository links mentioned in an abstract, in order, without duplicates."""
    seen: dict[str, None] = {}
    for url in _CODE_URL.findall(text):
        seen.setdefault(url.rstrip(".,;:)"), None)
    return tuple(seen)


DestinationKind = Literal["channel", "dm", "reply"]


@dataclass(frozen=True)
class Destination:
    """Where a message goes: a channel, a user's DMs, or the reply to one command."""

    platform: str
    workspace: str
    channel: str
    kind: DestinationKind = "channel"

    @property
    def workspace_prefix(self) -> str:
        """`slack:T1:`: what the key of every destination in this one's workspace starts
        with (its users' direct messages: that and `@`)."""
        return f"{self.platform}:{self.workspace}:"

    @property
    def key(self) -> str:
        """`slack:T1:C1` for a channel, `slack:T1:@U1` for a user's direct messages,
        `slack:T1:C1!3f9a0c1e` for one command's reply there."""
        at = "@" if self.kind == "dm" else ""
        return f"{self.platform}:{self.workspace}:{at}{self.channel}"

    @classmethod
    def from_key(cls, key: str) -> Destination:
        platform, workspace, channel = key.split(":", 2)
        if channel.startswith("@"):
            return cls(platform, workspace, channel[1:], "dm")
        if "!" in channel:
            return cls(platform, workspace, channel, "reply")
        return cls(platform, workspace, channel)

    @classmethod
    def reply_in(cls, platform: str, workspace: str, channel: str) -> Destination:
        """The reply to one command in `channel`: a queue of its own, so that it waits
        behind nothing (not the channel's digests, not other people's replies)."""
        return cls(platform, workspace, f"{channel}!{secrets.token_hex(4)}", "reply")


@dataclass(frozen=True)
class Signals:
    """What a source says about a paper's popularity and extras; None means unknown."""

    upvotes: int | None = None
    comments: int | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    ai_summary: str | None = None
    ai_keywords: tuple[str, ...] = ()
    thumbnail: str | None = None
    organization: str | None = None

    def merged_with(self, newer: Signals) -> Signals:
        """These signals refreshed by `newer`: a known newer value wins, unknown keeps ours."""
        values = {}
        for name in self.__dataclass_fields__:
            new_value = getattr(newer, name)
            values[name] = new_value if new_value not in (None, ()) else getattr(self, name)
        return Signals(**values)

    def cleaned(self) -> Signals:
        """These signals with their text through `clean_text` (blank reads as unknown)."""
        return replace(
            self,
            github_repo=clean_text(self.github_repo) or None,
            project_page=clean_text(self.project_page) or None,
            ai_summary=clean_text(self.ai_summary) or None,
            ai_keywords=_clean_all(self.ai_keywords),
            thumbnail=clean_text(self.thumbnail) or None,
            organization=clean_text(self.organization) or None,
        )


@dataclass(frozen=True)
class Paper:
    """One paper, however many sources and days it was seen on."""

    id: str
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    arxiv_id: str | None = None
    published: date | None = None
    links: tuple[str, ...] = ()
    code_links: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    signals: Signals = field(default_factory=Signals)
    sources: tuple[str, ...] = ()
    version: int | None = None  # the latest version seen, where the source numbers them
    # Where it was published, when a source says: the published version's DOI (arXiv's
    # `arxiv:doi`, bioRxiv's `published`; a bioRxiv preprint's own DOI is its id) and the
    # journal reference as arXiv gives it ("Phys. Rev. B 85, 115117 (2012)").
    doi: str | None = None
    journal_ref: str | None = None
    # One per author ("" for none) when any author has one; never part of a name.
    affiliations: tuple[str, ...] = ()
    # Filled when read from the store: the days it trended, newest first, with its rank.
    trending: tuple[TrendingEntry, ...] = ()

    @property
    def url(self) -> str | None:
        """The best page to link for this paper."""
        if self.arxiv_id:
            return f"https://arxiv.org/abs/{self.arxiv_id}"
        return self.links[0] if self.links else None

    @property
    def code_url(self) -> str | None:
        return self.signals.github_repo or (self.code_links[0] if self.code_links else None)

    @property
    def days(self) -> tuple[date, ...]:
        """Every day it trended, oldest first, else its publication date: the days date
        filters look at, and the last of them the day a digest or a result shows."""
        if self.trending:
            return tuple(sorted({entry.day for entry in self.trending}))
        return (self.published,) if self.published else ()


@dataclass(frozen=True)
class TrendingEntry:
    """A paper's place in one day's trending list of one source."""

    day: date
    source: str
    rank: int
    upvotes: int | None = None


@dataclass(frozen=True)
class Observation:
    """A paper as one source saw it at one moment, possibly on a day's trending list.

    `doi` is a preprint server's DOI (bioRxiv, medRxiv): the paper's id when it has no arXiv
    id. A DOI (`10.1101/...`) can never read as an arXiv id or a title key. `journal_doi`
    and `journal_ref` say where the paper was published (`Paper.doi`, `Paper.journal_ref`).
    """

    title: str
    source: str
    observed_at: datetime
    abstract: str = ""
    authors: tuple[str, ...] = ()
    arxiv_id: str | None = None
    published: date | None = None
    links: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    signals: Signals = field(default_factory=Signals)
    day: date | None = None
    rank: int | None = None
    doi: str | None = None
    version: int | None = None
    affiliations: tuple[str, ...] = ()
    journal_doi: str | None = None
    journal_ref: str | None = None
    normalized_title: str = field(init=False, compare=False, default="")

    def __post_init__(self) -> None:
        # Every source's text passes here: whatever a parser let through is cleaned once.
        object.__setattr__(self, "title", clean_text(self.title))
        object.__setattr__(self, "abstract", clean_text(self.abstract))
        authors, affiliations = _clean_authors(self.authors, self.affiliations)
        object.__setattr__(self, "authors", authors)
        object.__setattr__(self, "affiliations", affiliations)
        object.__setattr__(self, "links", _clean_all(self.links))
        object.__setattr__(self, "categories", _clean_all(self.categories))
        object.__setattr__(self, "signals", self.signals.cleaned())
        object.__setattr__(self, "journal_doi", normalize_doi(self.journal_doi))
        object.__setattr__(self, "journal_ref", clean_text(self.journal_ref) or None)
        if self.version is None:  # `2509.04664v2` names its version; the id keeps none
            object.__setattr__(self, "version", arxiv_version(self.arxiv_id))
        object.__setattr__(self, "arxiv_id", normalize_arxiv_id(self.arxiv_id))
        object.__setattr__(self, "normalized_title", normalize_title(self.title))

    @property
    def known_id(self) -> str | None:
        """The id a source gave the paper (arXiv id, else DOI); None means a title key."""
        return self.arxiv_id or self.doi

    @property
    def paper_id(self) -> str:
        return self.known_id or title_key(self.title)

    def to_paper(self) -> Paper:
        return Paper(
            id=self.paper_id,
            title=self.title,
            abstract=self.abstract,
            authors=self.authors,
            arxiv_id=self.arxiv_id,
            published=self.published,
            links=self.links,
            code_links=find_code_links(self.abstract),
            categories=self.categories,
            signals=self.signals,
            sources=(self.source,),
            version=self.version,
            affiliations=self.affiliations,
            doi=self.journal_doi,
            journal_ref=self.journal_ref,
        )
