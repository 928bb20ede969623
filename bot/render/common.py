"""Wording and helpers shared by the terminal, Slack and Discord renderers.

Everything here works on raw text; each renderer escapes the result for its platform.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from urllib.parse import urlsplit

from bot.models import Paper
from bot.render.escape import one_line, strip_controls
from bot.render.limits import ELLIPSIS, shorten
from bot.render.neutral import AlertGroup, Digest, Highlighted, SavedUpdate, SearchPage, TopicAlert

COMMAND = "/papers"
SEARCH_HINT = f"{COMMAND} search <words>"
HELP_HINT = f"{COMMAND} help"
SUBSCRIBE_HINT = f"{COMMAND} subscribe <topic>"
FOOTER = f"Search: {SEARCH_HINT} · Alerts: {SUBSCRIBE_HINT} · Help: {HELP_HINT}"
EMPTY_DIGEST = "No trending papers for this day yet. Try again later, or search older ones."
UPVOTE = "▲"
# Shown instead of a title or a message whose every character escapes to nothing (a
# platform refuses an empty field, and an empty heading reads as a bug).
UNTITLED = "(untitled)"
NO_TEXT = "(no text)"

SUMMARY_LIMIT = 300
LEAD_LIMIT = 600
AUTHORS_LIMIT = 200
MAX_AUTHORS = 3

# A sentence ends at . ! or ? followed by space and something that starts a sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“\u2018'(\[])")
_PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "da", "di", "le", "la"})


# --- papers -----------------------------------------------------------------------------


def format_day(day: date) -> str:
    """e.g. "Saturday, 9 May 2026"."""
    return f"{day:%A}, {day.day} {day:%B %Y}"


def short_author(name: str) -> str:
    """ "Alice B. Smith" -> "A. B. Smith"; one-word and non-Latin names stay as they are."""
    parts = one_line(name).split(" ")
    if len(parts) < 2:
        return " ".join(parts)
    given = [_initial(p) for p in parts[:-1]]
    return " ".join([*given, parts[-1]])


def _initial(part: str) -> str:
    if part.lower() in _PARTICLES or not part[:1].isalpha() or part.endswith("."):
        return part
    if "-" in part:  # Jean-Pierre -> J.-P.
        return "-".join(_initial(p) for p in part.split("-") if p)
    return f"{part[0].upper()}."


def short_authors(authors: Sequence[str], limit: int = AUTHORS_LIMIT) -> str:
    """ "A. Smith, B. Jones, C. Li et al." (at most three names); "" when unknown.
    A name that is only controls or bidi marks shows nothing, so it is left out."""
    names = [name for name in (short_author(strip_controls(a)) for a in authors) if name]
    if not names:
        return ""
    text = ", ".join(names[:MAX_AUTHORS])
    if len(names) > MAX_AUTHORS:
        text += " et al."
    return shorten(text, limit)


def upvotes(paper: Paper) -> int | None:
    """The upvote count when known: the source's signal, else the latest trending entry's."""
    if paper.signals.upvotes is not None:
        return paper.signals.upvotes
    for entry in sorted(paper.trending, key=lambda e: e.day, reverse=True):
        if entry.upvotes is not None:
            return entry.upvotes
    return None


def upvote_text(paper: Paper) -> str:
    """e.g. "▲ 42", or "" when unknown."""
    count = upvotes(paper)
    return "" if count is None else f"{UPVOTE} {count}"


def trend_day(paper: Paper) -> date | None:
    """The latest day the paper trended, else its publication date."""
    return paper.days[-1] if paper.days else None


def safe_url(url: str | None) -> str | None:
    """`url` when it is a plain http(s) URL we are willing to link, else None."""
    if not url:
        return None
    url = url.strip()
    if any(ch.isspace() or ord(ch) < 32 or "\ud800" <= ch <= "\udfff" for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url


def paper_url(paper: Paper) -> str | None:
    return safe_url(paper.url)


def code_url(paper: Paper) -> str | None:
    return safe_url(paper.code_url)


def code_label(url: str) -> str:
    """ "github.com/org/repo" for a repository URL."""
    parts = urlsplit(url)
    return shorten((parts.netloc.removeprefix("www.") + parts.path).rstrip("/"), 80)


def visible(text: str | None) -> str:
    """`text` on one line without the controls every renderer drops; "" when nothing
    would show."""
    return one_line(strip_controls(text)) if text else ""


def sentences(text: str) -> list[str]:
    text = visible(text)
    return [s for s in _SENTENCE_END.split(text) if s] if text else []


def lead(text: str, count: int, limit: int) -> str:
    """The first `count` sentences of `text`, shortened to `limit`."""
    return shorten(" ".join(sentences(text)[:count]), limit)


def summary(paper: Paper, limit: int = SUMMARY_LIMIT) -> str:
    """One line about the paper: the source's AI summary, else the abstract's first sentence."""
    ai_summary = visible(paper.signals.ai_summary)
    if ai_summary:
        return shorten(ai_summary, limit)
    return lead(paper.abstract, 1, limit)


def detail_lines(paper: Paper, style: str) -> list[str]:
    """The summary; "full" style adds the abstract's first two sentences without repeating
    the first one."""
    line = summary(paper)
    if style != "full":
        return [line] if line else []
    more = lead(paper.abstract, 2, LEAD_LIMIT)
    if visible(paper.signals.ai_summary):
        return [text for text in (line, more) if text]
    return [more] if more else []


# --- headings and hints -----------------------------------------------------------------


def digest_heading(digest: Digest) -> str:
    """e.g. "Trending papers · Saturday, 9 May 2026" (the topic is added by the caller)."""
    return f"Trending papers · {format_day(digest.day)}"


def results_heading(page: SearchPage, query: str) -> str:
    """e.g. "3 results for “q”", or "Results 11-20 for “q”" when there are more pages;
    `query` comes quoted and escaped."""
    if page.offset or page.has_more:
        return f"Results {page.offset + 1}\u2013{page.offset + len(page.hits)} for {query}"
    noun = "result" if len(page.hits) == 1 else "results"
    return f"{len(page.hits)} {noun} for {query}"


def quoted(text: str) -> str:
    return f"“{text}”"


NO_RESULTS_HINT = "Try fewer or different words, or check the spelling."
EMPTY_CORPUS_HINT = (
    "There are no papers yet: the bot adds the day's trending papers on its schedule, and"
    " whoever runs it can load some now with `paperwire ingest seeds`."
)


def no_results_hint(page: SearchPage) -> str:
    return EMPTY_CORPUS_HINT if page.corpus_empty else NO_RESULTS_HINT


def more_hint(page: SearchPage) -> str:
    return "More: there are more results. Add words to narrow the search."


# --- highlighted text -------------------------------------------------------------------


def merged_segments(text: Highlighted) -> list[tuple[str, bool]]:
    """`text.segments()` with touching highlighted pieces joined (overlapping spans give
    neighbours, and markup such as `****` between them would break)."""
    merged: list[tuple[str, bool]] = []
    for piece, marked in text.segments():
        if merged and merged[-1][1] == marked:
            merged[-1] = (merged[-1][0] + piece, marked)
        else:
            merged.append((piece, marked))
    return merged


def collapse_highlighted(text: Highlighted) -> Highlighted:
    """The same text on one line, spans moved to match."""
    out: list[str] = []
    index_map: list[int] = []  # old index -> new index
    last_space = True
    for ch in text.text:
        index_map.append(len(out))
        if ch.isspace():
            if not last_space:
                out.append(" ")
            last_space = True
        else:
            out.append(ch)
            last_space = False
    index_map.append(len(out))
    collapsed = "".join(out)
    stripped = collapsed.rstrip()
    size = len(text.text)
    spans = tuple(
        (index_map[max(0, min(s, size))], min(index_map[max(0, min(e, size))], len(stripped)))
        for s, e in text.spans
    )
    return Highlighted(stripped, spans)


def widen_to_words(text: Highlighted) -> Highlighted:
    """Spans stretched to whole words, for markup that only works at word boundaries."""
    spans = []
    for start, end in text.spans:
        start, end = max(0, start), min(len(text.text), end)
        while 0 < start < len(text.text) and text.text[start - 1].isalnum():
            start -= 1
        while 0 < end < len(text.text) and text.text[end].isalnum():
            end += 1
        spans.append((start, end))
    return Highlighted(text.text, tuple(spans))


def shorten_highlighted(text: Highlighted, limit: int) -> Highlighted:
    """Shortened like `shorten`, keeping the highlighted ranges that survive."""
    short = shorten(text.text, limit)
    if short == text.text:
        return text
    kept = len(short) - len(ELLIPSIS)
    spans = tuple((s, min(e, kept)) for s, e in text.spans if s < kept)
    return Highlighted(short, spans)


def mark_segment(piece: str, left: str, right: str) -> str:
    """`piece` wrapped in markup with its outer spaces kept outside ("* x *" does not bold)."""
    core = piece.strip()
    if not core:
        return piece
    start = piece[: len(piece) - len(piece.lstrip())]
    end = piece[len(piece.rstrip()) :]
    return f"{start}{left}{core}{right}{end}"


def render_highlighted(
    text: Highlighted, escape: Callable[[str], str], mark: Callable[[str], str]
) -> str:
    """Each piece escaped; highlighted pieces also passed through `mark`."""
    return "".join(
        mark(escape_keep_spaces(piece, escape)) if marked else escape_keep_spaces(piece, escape)
        for piece, marked in merged_segments(text)
    )


def escape_keep_spaces(piece: str, escape: Callable[[str], str]) -> str:
    """`escape(piece)` with the piece's outer spaces kept (escapers trim them)."""
    core = escape(piece)
    if not core:
        return " " if piece and piece.isspace() else core
    start = " " if piece[:1].isspace() else ""
    end = " " if piece[-1:].isspace() else ""
    return f"{start}{core}{end}"


# --- fitting escaped text into limits ---------------------------------------------------


def fit(text: str, limit: int, escape: Callable[[str], str]) -> str:
    """`escape(shorten(text, n))` for the largest n whose escaped form fits in `limit`.

    Escaping lengthens text, so shortening the escaped form would cut through an escape.
    """
    room = limit
    while True:
        out = escape(shorten(text, room))
        if len(out) <= limit or room <= 0:
            return out if len(out) <= limit else ""
        room = _less_room(room, len(out), limit)


def _less_room(room: int, length: int, limit: int) -> int:
    """The next room to try when `room` characters escaped to `length` > `limit`: shrunk
    in proportion, since text of `<` or `&` escapes to four or five times its length
    (taking off only the overshoot left nothing of such text)."""
    return min(room - 1, room * limit // length)


def fit_highlighted(
    text: Highlighted,
    limit: int,
    escape: Callable[[str], str],
    mark: Callable[[str], str],
) -> str:
    """Like `fit`, for highlighted text."""
    text = collapse_highlighted(text)
    room = limit
    while True:
        out = render_highlighted(shorten_highlighted(text, room), escape, mark)
        if len(out) <= limit or room <= 0:
            return out if len(out) <= limit else ""
        room = _less_room(room, len(out), limit)


def split_text(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut at line ends, else at spaces."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
            backslashes = len(rest[:cut]) - len(rest[:cut].rstrip("\\"))
            if backslashes % 2 and cut > 1:  # keep an escape with what it escapes
                cut -= 1
            entity = rest.rfind("&", max(0, cut - 5), cut)
            if entity > 0 and ";" not in rest[entity:cut]:  # nor cut "&amp;" in two
                cut = entity
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces


# --- topic alerts ---------------------------------------------------------------------


def alert_heading(alert: TopicAlert) -> str:
    if not alert.count:  # only news of the reading list
        changes = len(alert.updates) + alert.more_updates
        return f"{changes} {'update' if changes == 1 else 'updates'} to your reading list"
    noun = "paper" if alert.count == 1 else "papers"
    return f"{alert.count} new {noun} for your topics"


READING_LIST = "Your reading list"


def update_text(update: SavedUpdate) -> str:
    """What changed, after the paper's title: "v3 posted", "published in Nature 612 (2026)",
    "DOI 10.1038/…" (raw: the journal reference and DOI come from a source)."""
    if update.kind == "version":
        return f"v{update.value} posted"
    if update.kind == "journal_ref":
        return f"published in {update.value}"
    return f"DOI {update.value}"


def more_updates(alert: TopicAlert) -> str:
    return f"…and {alert.more_updates} more in your next alert"


def more_matches(group: AlertGroup) -> str:
    """e.g. "…and 4 more: /papers search diffusion"."""
    return f"…and {group.more} more: {COMMAND} search {group.topic}"


ALERT_FOOTER = f"Manage your topics: {COMMAND} subscriptions · {COMMAND} pause · {COMMAND} help"


WHY_MARK = "\u2191"  # ↑: what a line saying why taste lifted a paper starts with
WHY_LIMIT = 120


def why_text(reason: str) -> str:
    """e.g. "↑ like 3 papers this channel liked", before the platform's escaping."""
    return f"{WHY_MARK} {reason}"
