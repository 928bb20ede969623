"""Property tests: hostile text from every side reaches no platform as a ping, an empty
field or an oversized payload, and breaks nothing on the way.

Commands, queries, titles, abstracts, author names and topics are drawn from hostile
alphabets (control characters, bidi overrides, lone surrogates, Slack and Discord mention
syntax, markdown, 10,000-character strings) and driven through the router (with the
console context), the search service and the three renderers. Every reply is rendered for
the terminal, Slack and Discord and checked with `tests/payload_checks.py`.

Hypothesis runs with the "ci" profile when CI=true: derandomized, so a CI run is
reproducible. Locally the "dev" profile explores new examples each run. Neither keeps an
example database, and Hypothesis's own caches go to the system's temporary directory, so
nothing is written into the checkout.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import tempfile
import unicodedata
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from bot.app import Services, build_services
from bot.config import Settings
from bot.errors import UserError
from bot.models import Observation, Paper, Signals, TrendingEntry, scrub_text
from bot.render.discord import render_discord
from bot.render.neutral import (
    AlertGroup,
    Content,
    Digest,
    Highlighted,
    Hit,
    Notice,
    SavedUpdate,
    SearchPage,
    TopicAlert,
)
from bot.render.slack import render_slack
from bot.render.text import render_text
from handlers.context import Context, Invocation
from handlers.help import help_reply
from handlers.router import ALIASES, SUBCOMMANDS, dispatch
from tests.conftest import NOW, seed_observations
from tests.payload_checks import check_discord_message, check_slack_message, slack_texts

settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.register_profile("dev", database=None, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")
# Hypothesis caches Unicode tables and the constants of our source in `.hypothesis/` of the
# working directory, from test collection on (before any fixture): keep them in /tmp.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "paperwire-hypothesis")

# Examples per test, chosen so the whole module runs in well under 60 s on CI.
ROUTER_EXAMPLES = 300
SEARCH_EXAMPLES = 200
RENDER_EXAMPLES = 150
# Generating 10,000-character text is slow on a busy machine; a timing check would make
# the run flaky, not safer.
NOT_TIMED = [HealthCheck.too_slow]
# One seeded store shared by the examples of a test (each asks as a user of its own).
SHARED_SERVICES = [HealthCheck.function_scoped_fixture, *NOT_TIMED]

# --- hostile alphabets -----------------------------------------------------------------

CONTROLS = "".join(map(chr, [*range(0x00, 0x20), *range(0x7F, 0xA0)]))
BIDI = "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
BIDI += "\ufeff"
SURROGATES = "\ud800\udbff\udc00\udfff\ud83d\ude00"
MARKDOWN = "*_~`>|#-+\\[]()&<>!:@.1 \n\t"
MENTIONS = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S123>",
    "<@U123>",
    "<@W123|bob>",
    "<#C123>",
    "@everyone",
    "@here",
    "@channel",
    "<@123>",
    "<@!123>",
    "<@&123>",
    "<#123>",
    "</papers search:123>",
    "<https://evil.example|click>",
    "[click](https://evil.example)",
    "\x1b[31m",
    "\x1b]8;;https://evil.example\x07",
    "> quote",
    "# heading",
    "-# subtext",
    "1. item",
)
WORDS = (
    "diffusion",
    "language models",
    "agent*",
    '"video generation"',
    "-benchmark",
    "author:smith",
    "cat:cs.CL",
    "OR",
    "(",
    ")",
    "2405.15071",
    "all",
    "1",
)

pieces = st.one_of(
    st.sampled_from(MENTIONS + WORDS),
    st.text(alphabet=CONTROLS + BIDI + SURROGATES + MARKDOWN, max_size=8),
    st.text(max_size=8),  # any code point but a surrogate
)
short_text = st.lists(pieces, max_size=10).map(" ".join) | st.lists(pieces, max_size=6).map("".join)
long_text = st.builds(
    lambda piece, tail: (piece * (10_000 // len(piece) + 1))[:10_000] + tail,
    st.sampled_from((*MENTIONS, "*", "\u202e", "\ud800", "a ", "word ", "<", "&", "\x1b[1m")),
    short_text,
)
hostile_text = st.one_of(short_text, short_text, short_text, long_text)


# --- checks ----------------------------------------------------------------------------


def check_rendered(content: Content) -> None:
    """`content` renders for every platform, inside its limits, with no live mention, no
    empty field and nothing a platform cannot decode."""
    text = render_text(content)
    _encodable(text)
    for line in text.splitlines():
        assert line == "" or line.strip(), f"blank field in {text!r}"
        shown = [ch for ch in line if unicodedata.category(ch) == "Cc" and ch != "\t"]
        assert not shown, f"control characters {shown!r} in {line!r}"
    for interactive in (False, True):
        for body in render_slack(content, interactive=interactive):
            check_slack_message(body)
            _encodable(json.dumps(body, ensure_ascii=False))
    for body in render_discord(content):
        check_discord_message(body)
        _encodable(json.dumps(body, ensure_ascii=False))


def _encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, which no platform decodes
        raise AssertionError(f"not UTF-8 encodable: {exc}") from None


class Failures(logging.Handler):
    """Collects what the router logs as a failed command (it answers with an apology)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# --- a seeded store with hostile papers in it ------------------------------------------


def hostile_observations() -> list[Observation]:
    """Papers whose every text is hostile, as a source would deliver them."""
    texts = [
        "<!channel> diffusion @everyone \ud800 models",
        "\u202e\u2066 language models \x1b[31m *bold* _x_ ~y~ `z`",
        "<@U123> <@&123> </papers search:1> agent benchmark \x00 \x07",
        "video generation " + "<" * 3000,
        "\u202e",
    ]
    return [
        Observation(
            title=text,
            abstract=f"{text} We study {text}. " * 3,
            authors=(text, "\x1b[0m", "@here", "\u202e"),
            source="hf",
            observed_at=NOW,
            arxiv_id=f"2611.{number:05d}",
            day=NOW.date() - timedelta(days=1),
            rank=number,
            signals=Signals(upvotes=number, ai_summary=text, organization=text),
        )
        for number, text in enumerate(texts, start=1)
    ]


@pytest.fixture
async def corpus() -> AsyncIterator[Services]:
    async with build_services(Settings(db_path=":memory:"), clock=lambda: NOW) as services:
        await services.papers.ingest([*seed_observations(), *hostile_observations()])
        await services.refresh_index()
        yield services


# --- the router ------------------------------------------------------------------------

command_names = st.sampled_from(
    [
        *SUBCOMMANDS,
        *ALIASES,
        "SEARCH",
        "digest set topic",
        "digest set size",
        "digest on",
        "digest now",
        "unsubscribe all",
        "alerts",
        "trending 2026-11-21",
    ]
)
commands = st.builds(lambda name, rest: f"{name} {rest}", command_names, hostile_text)


async def ask(services: Services, text: str, user: str, is_manager: bool = False) -> Content:
    """The router's answer to `text`, asked in a channel and by a user of their own (so one
    example's topics and digest settings do not change another's); fails when the router
    had to apologise for a bug."""
    failures = Failures()
    logging.getLogger("handlers.router").addHandler(failures)
    try:
        number = next(_askers)
        invocation = Invocation(
            "console", "local", f"shell{number}", f"{user}{number}", text, is_manager=is_manager
        )
        reply = await dispatch(Context(invocation, services, NOW))
    finally:
        logging.getLogger("handlers.router").removeHandler(failures)
    assert not failures.records, failures.records[0].exc_info
    return reply.content


_askers = itertools.count(1)


@settings(max_examples=ROUTER_EXAMPLES, suppress_health_check=SHARED_SERVICES)
@given(
    text=st.one_of(commands, commands, hostile_text),
    user=st.sampled_from(["ada", "<@U123>", "\u202e"]),
    is_manager=st.booleans(),
)
async def test_router_answers_any_command_with_a_renderable_reply(
    corpus: Services, text: str, user: str, is_manager: bool
) -> None:
    check_rendered(await ask(corpus, text, user, is_manager))


async def test_a_topic_with_a_lone_surrogate_is_stored_cleaned(corpus: Services) -> None:
    # Found by the property test: SQLite refused the topic and the user got an apology.
    reply = await ask(corpus, "subscribe diffusion \udfff", "ada")
    assert isinstance(reply, Notice) and not reply.is_error
    [topic] = await corpus.subscriptions.subscriptions()
    assert topic.topic == "diffusion \ufffd"


# --- the search service ----------------------------------------------------------------


@settings(max_examples=SEARCH_EXAMPLES, suppress_health_check=SHARED_SERVICES)
@given(
    query=st.one_of(hostile_text, st.lists(st.sampled_from(WORDS), max_size=4).map(" ".join)),
    limit=st.integers(-3, 60),
    offset=st.integers(-3, 60),
)
async def test_search_service_answers_any_query(
    corpus: Services, query: str, limit: int, offset: int
) -> None:
    try:
        page = await corpus.search.search(query, limit=limit, offset=offset)
    except UserError as exc:
        assert str(exc).strip()
        return
    for hit in page.hits:
        assert all(0 <= s <= e <= len(hit.title.text) for s, e in hit.title.spans)
        assert all(0 <= s <= e <= len(hit.snippet.text) for s, e in hit.snippet.spans)
    check_rendered(page)


async def test_a_query_with_a_lone_surrogate_is_cleaned(corpus: Services) -> None:
    # Found by the property test: the query came back in the page, and in the buttons.
    page = await corpus.search.search("diffusion\ud800", limit=3)
    assert page.query == "diffusion\ufffd" and page.hits
    check_rendered(page)


# --- the renderers ---------------------------------------------------------------------

urls = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "https://github.com/a/b",
            "https://github.com/evil/repo|<!channel>",
            "javascript:alert(1)",
            "https://example.org/(x)<y>&z",
            "https://example.org/" + "a" * 2000,
            "https://example.org/\ud800",
        ]
    ),
    hostile_text,
)


@st.composite
def papers(draw: st.DrawFn, max_size: int = 6) -> tuple[Paper, ...]:
    count = draw(st.integers(0, max_size))
    drawn = []
    for number in range(1, count + 1):
        arxiv = draw(st.booleans())
        drawn.append(
            Paper(
                id=f"2605.{number:05d}" if arxiv else draw(st.sampled_from(["t-1", "x" * 300])),
                arxiv_id=f"2605.{number:05d}" if arxiv else None,
                title=draw(hostile_text),
                abstract=draw(hostile_text),
                authors=tuple(draw(st.lists(hostile_text, max_size=4))),
                links=tuple(u for u in [draw(urls)] if u),
                signals=Signals(
                    upvotes=draw(st.none() | st.integers(0, 10**6)),
                    github_repo=draw(urls),
                    ai_summary=draw(st.none() | hostile_text),
                    thumbnail=draw(urls),
                ),
                trending=(TrendingEntry(date(2026, 5, 9), "hf", number, None),),
            )
        )
    return tuple(drawn)


spans = st.lists(st.tuples(st.integers(-5, 12_000), st.integers(-5, 12_000)), max_size=4)


@st.composite
def hits(draw: st.DrawFn) -> tuple[Hit, ...]:
    return tuple(
        Hit(
            paper,
            1.0,
            Highlighted(paper.title, tuple(draw(spans))),
            Highlighted(paper.abstract[:300], tuple(draw(spans))),
        )
        for paper in draw(papers())
    )


optional_text = st.none() | hostile_text
contents = st.one_of(
    st.builds(
        Digest,
        day=st.just(date(2026, 5, 9)),
        papers=papers(max_size=12),
        topic=optional_text,
        style=st.sampled_from(["full", "compact"]),
        note=optional_text,
    ),
    st.builds(
        TopicAlert,
        groups=st.lists(
            st.builds(AlertGroup, topic=hostile_text, papers=papers(), more=st.integers(0, 9)),
            min_size=0,
            max_size=3,
        ).map(tuple),
        # A reading list's changes: hostile titles, and a source's journal reference or DOI.
        updates=papers(max_size=25).flatmap(
            lambda drawn: st.tuples(
                *(
                    st.builds(
                        SavedUpdate,
                        paper=st.just(paper),
                        kind=st.sampled_from(["version", "journal_ref", "doi"]),
                        value=hostile_text,
                    )
                    for paper in drawn
                )
            )
        ),
        more_updates=st.integers(0, 3),
    ).filter(lambda alert: bool(alert.groups or alert.updates)),
    st.builds(
        SearchPage,
        # A page's query comes from the search service, which cleans it (the test above):
        # it is also the value of the "Next" button, data rather than text to escape.
        query=hostile_text.map(scrub_text),
        hits=hits(),
        offset=st.integers(0, 1000),
        has_more=st.booleans(),
        note=optional_text,
    ),
    st.builds(Notice, text=hostile_text, title=optional_text, is_error=st.booleans()),
    # Help is our own text but for the error, which can quote what the user typed.
    st.builds(help_reply, error=optional_text).map(lambda reply: reply.content),
)


@settings(max_examples=RENDER_EXAMPLES, suppress_health_check=NOT_TIMED)
@given(content=contents)
def test_renderers_keep_any_content_inside_the_platform_rules(content: Content) -> None:
    check_rendered(content)


def test_escaped_text_that_grows_fivefold_still_fits() -> None:
    # Found by the property test: a topic of 10,000 "<" (each "&lt;" on Slack) left its
    # "…and 1 more" line empty, and Slack refuses a context without elements.
    group = AlertGroup("<" * 10_000, (), more=1)
    for body in render_slack(TopicAlert((group,))):
        check_slack_message(body)
        assert any("1 more: /papers search &lt;&lt;" in text for text in slack_texts(body))
    [body] = render_discord(TopicAlert((group,)))
    assert "1 more: /papers search \\<\\<" in body["content"]


def test_a_url_with_a_lone_surrogate_is_not_linked() -> None:
    paper = Paper(id="t-1", title="T", signals=Signals(thumbnail="https://example.org/\ud800"))
    [body] = render_discord(Digest(date(2026, 5, 9), (paper,)))
    assert "thumbnail" not in body["embeds"][0]
