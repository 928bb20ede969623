import io
import re
from dataclasses import replace
from datetime import date

import pytest

from bot.models import Signals
from bot.render import common
from bot.render.limits import shorten
from bot.render.neutral import Digest, Help, HelpTopic, Highlighted, Hit, Notice, SearchPage
from bot.render.text import BOLD, RESET, render_text, wants_color
from tests.conftest import make_paper
from tests.payload_checks import (
    HOSTILE_TITLE,
    big_digest,
    edge_highlights,
    hostile_paper,
    huge_paper,
    seed_digests,
    seed_search_pages,
)

DAY = date(2026, 5, 9)


# --- shared wording (bot.render.common) -------------------------------------------------


def test_format_day() -> None:
    assert common.format_day(DAY) == "Saturday, 9 May 2026"


@pytest.mark.parametrize(
    ("authors", "expected"),
    [
        ((), ""),
        (("Ada Lovelace",), "A. Lovelace"),
        (("Alice Bob Smith", "Jean-Pierre Dupont"), "A. B. Smith, J.-P. Dupont"),
        (("A. Smith", "B. Jones", "C. Li", "D. Park"), "A. Smith, B. Jones, C. Li et al."),
        (("Jan van der Berg", "Plato", "王小明"), "J. van der Berg, Plato, 王小明"),
    ],
)
def test_short_authors(authors: tuple[str, ...], expected: str) -> None:
    assert common.short_authors(authors) == expected


def test_short_authors_of_300_names_stays_short() -> None:
    out = common.short_authors(huge_paper().authors)
    assert out.endswith(" et al.")
    assert out.count(",") == 2
    assert len(out) <= common.AUTHORS_LIMIT


def test_summary_prefers_ai_summary_then_first_sentence() -> None:
    paper = make_paper(abstract="First sentence here. Second one follows.")
    assert common.summary(paper) == "First sentence here."
    with_ai = replace(paper, signals=Signals(ai_summary="  An AI\nsummary. "))
    assert common.summary(with_ai) == "An AI summary."


def test_summary_does_not_split_inside_abbreviations() -> None:
    paper = make_paper(abstract="Data are i.i.d. and labeled, e.g. images. Then more.")
    assert common.summary(paper) == "Data are i.i.d. and labeled, e.g. images."


def test_summary_of_empty_abstract_is_empty() -> None:
    assert common.summary(make_paper(abstract="")) == ""
    assert common.detail_lines(make_paper(abstract=""), "full") == []


def test_full_style_adds_two_sentences_without_repeating() -> None:
    paper = make_paper(abstract="One. Two. Three.")
    assert common.detail_lines(paper, "compact") == ["One."]
    assert common.detail_lines(paper, "full") == ["One. Two."]
    with_ai = replace(paper, signals=Signals(ai_summary="Gist."))
    assert common.detail_lines(with_ai, "full") == ["Gist.", "One. Two."]


def test_upvotes_fall_back_to_trending_entry() -> None:
    paper = make_paper(signals=Signals())
    assert common.upvote_text(paper) == "▲ 10"  # from make_paper's trending entry
    assert common.upvote_text(make_paper(signals=Signals(), trending=())) == ""


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://github.com/a/b", True),
        ("http://x.org", True),
        ("javascript:alert(1)", False),
        ("https://x.org/a b", False),
        ("ftp://x.org", False),
        ("https://", False),
        ("", False),
    ],
)
def test_safe_url(url: str, safe: bool) -> None:
    assert (common.safe_url(url) is not None) is safe


def test_merged_segments_join_overlapping_highlights() -> None:
    text = Highlighted("abcdefghij", ((0, 3), (2, 5), (5, 6)))
    assert common.merged_segments(text) == [("abcdef", True), ("ghij", False)]


def test_fit_never_cuts_through_an_escape() -> None:
    out = common.fit("& " * 100, 50, lambda t: t.replace("&", "&amp;"))
    assert len(out) <= 50
    assert re.search(r"&(?!amp;)", out) is None


def test_split_text_keeps_pieces_within_limit() -> None:
    text = "word " * 1000 + "x" * 3000
    pieces = common.split_text(text, 2000)
    assert all(len(p) <= 2000 for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


# --- digests ----------------------------------------------------------------------------


def test_digest_layout() -> None:
    paper = make_paper(
        title="Diffusion\nModels",
        authors=("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
        signals=Signals(upvotes=42, github_repo="https://github.com/a/b"),
        abstract="We study diffusion. It works.",
    )
    out = render_text(Digest(DAY, (paper,), topic="diffusion", note="Early list."))
    lines = out.splitlines()
    assert lines[0] == "Trending papers · Saturday, 9 May 2026 · topic: diffusion"
    assert lines[1] == "Early list."
    assert "1. Diffusion Models" in lines
    assert "   https://arxiv.org/abs/2607.00001" in lines
    facts = "A. Lovelace, A. Turing, G. Hopper et al. · ▲ 42 · code: https://github.com/a/b"
    assert f"   {facts}" in lines
    assert "   We study diffusion. It works." in lines
    assert lines[-1] == common.FOOTER
    assert "/papers search <words>" in out and "/papers help" in out
    assert "\x1b" not in out  # no colour unless asked


def test_compact_digest_shows_one_sentence() -> None:
    paper = make_paper(abstract="We study diffusion. It works.")
    out = render_text(Digest(DAY, (paper,), style="compact"))
    assert "We study diffusion." in out and "It works." not in out


def test_empty_digest_says_so() -> None:
    out = render_text(Digest(DAY, ()))
    assert common.EMPTY_DIGEST in out
    assert common.FOOTER in out


def test_every_seed_digest_renders_all_papers_in_order() -> None:
    digests = seed_digests()
    assert len(digests) >= 8
    for digest in digests:
        out = render_text(digest)
        numbers = [int(m) for m in re.findall(r"^(\d+)\. ", out, re.M)]
        assert numbers == list(range(1, len(digest.papers) + 1))
        assert common.format_day(digest.day) in out
        for paper in digest.papers:
            assert shorten(paper.title, 300) in out


def test_hostile_text_cannot_drive_the_terminal() -> None:
    title = "Evil\x1b[2J\x1b]0;pwned\x07 title\u202e\r\nnext"
    paper = replace(hostile_paper(), title=title, abstract="A\x00b.")
    out = render_text(Digest(DAY, (paper,)), color=True)
    assert "\x1b[2J" not in out and "\x1b]" not in out and "\x00" not in out
    assert "\u202e" not in out and "\r" not in out
    assert "1. \x1b[1mEvil title next\x1b[0m" in out
    # Our own bold is the only escape sequence.
    assert set(re.findall(r"\x1b\[[0-9;]*m", out)) <= {BOLD, RESET}


def test_huge_paper_is_shortened() -> None:
    out = render_text(Digest(DAY, (huge_paper(),)))
    title_line = next(line for line in out.splitlines() if line.startswith("1. "))
    assert len(title_line) <= 3 + 300
    assert title_line.endswith("…")
    assert "et al." in out
    assert max(len(line) for line in out.splitlines()) <= 2100


def test_big_digest_lists_everything() -> None:
    out = render_text(big_digest(120))
    assert "120. " in out
    assert out.count("▲ ") == 120


# --- search -----------------------------------------------------------------------------


def _hit(title: Highlighted, snippet: Highlighted | None = None) -> Hit:
    paper = make_paper(title=title.text)
    return Hit(paper, 1.0, title, snippet or Highlighted("We study diffusion models."))


def test_search_page_layout() -> None:
    hit = _hit(
        Highlighted("Diffusion Models", ((0, 9),)),
        Highlighted("We study diffusion models.", ((9, 18),)),
    )
    page = SearchPage("diffusion", (hit,), has_more=True, note="Showing papers with some words.")
    lines = render_text(page).splitlines()
    assert lines[0] == "Results 1\u20131 for “diffusion”"
    assert lines[1] == "Showing papers with some words."
    assert "1. [Diffusion] Models" in lines
    assert "   Trended Wednesday, 1 July 2026 · A. Lovelace, A. Turing · ▲ 10" in lines
    assert "   We study [diffusion] models." in lines
    assert lines[-1] == "More: there are more results. Add words to narrow the search."


def test_search_highlights_in_color() -> None:
    hit = _hit(Highlighted("Diffusion Models", ((0, 9),)))
    out = render_text(SearchPage("diffusion", (hit,)), color=True)
    assert f"1. {BOLD}Diffusion{RESET} Models" in out
    assert "[Diffusion]" not in out


def test_search_numbers_continue_from_offset() -> None:
    hit = _hit(Highlighted("Diffusion Models"))
    out = render_text(SearchPage("x", (hit,), offset=10, has_more=True))
    assert "\n11. Diffusion Models\n" in out
    assert "More:" in out


def test_search_with_no_results_gives_a_hint() -> None:
    out = render_text(SearchPage("zebra  \n stripes", ()))
    assert out.startswith("No results for “zebra stripes”.")
    assert common.NO_RESULTS_HINT in out


def test_edge_and_overlapping_highlights() -> None:
    title = "Attention Is All You Need"
    out = render_text(SearchPage("x", (_hit(edge_highlights(title)),)))
    assert "1. [Attention Is] All You [Need]" in out


def test_every_seed_search_page_renders() -> None:
    pages = seed_search_pages()
    assert sum(1 for p in pages if p.hits) >= 10
    for page in pages:
        out = render_text(page)
        if not page.hits:
            assert common.NO_RESULTS_HINT in out
            continue
        assert " for “" in out
        assert out.count("[") >= 1  # the words that matched are marked
        assert ("More:" in out) is page.has_more


def test_hostile_search_query_and_title() -> None:
    paper = hostile_paper()
    hit = Hit(paper, 1.0, Highlighted(HOSTILE_TITLE, ((0, 10),)), Highlighted("x\x1b[31m"))
    out = render_text(SearchPage("\x1b[2Jq", (hit,)))
    assert "\x1b" not in out
    assert "“q”" in out


# --- help and notices -------------------------------------------------------------------


def test_help_aligns_usages_and_puts_error_first() -> None:
    help_ = Help(
        "paperwire commands",
        (HelpTopic("/papers search <words>", "Search papers"), HelpTopic("/papers help", "Help")),
        footer="More at example.org",
        error="Unknown command “foo”.",
    )
    lines = render_text(help_).splitlines()
    assert lines[0] == "Error: Unknown command “foo”."
    assert lines[2] == "paperwire commands"
    assert lines[3] == "  /papers search <words>  Search papers"
    assert lines[4] == "  /papers help            Help"
    assert lines[-1] == "More at example.org"


def test_notice_keeps_its_lines() -> None:
    out = render_text(Notice("Subscribed.\nYou will get alerts.", title="Done"))
    assert out == "Done\nSubscribed.\nYou will get alerts.\n"


def test_a_notice_with_code_prints_it_as_it_is() -> None:
    out = render_text(Notice("1 entry.", title="List", code="@misc{k,\n  title = {x\x1b[31m},\n}"))
    assert out == "List\n1 entry.\n@misc{k,\n  title = {x},\n}\n"


def test_error_notice_is_marked() -> None:
    assert render_text(Notice("No such topic.", is_error=True)) == "Error: No such topic.\n"
    assert render_text(Notice("x", title="Oops", is_error=True)).startswith("Error: Oops\n")


def test_a_digest_ends_with_how_to_search_subscribe_and_get_help() -> None:
    out = render_text(Digest(date(2026, 5, 9), (make_paper(),)), color=False)
    assert out.rstrip().splitlines()[-1] == (
        "Search: /papers search <words> · Alerts: /papers subscribe <topic> · Help: /papers help"
    )


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_bold_on_a_terminal_unless_no_color_brackets_elsewhere() -> None:
    assert wants_color(_Stream(tty=True), env={})
    assert not wants_color(_Stream(tty=True), env={"NO_COLOR": "1"})
    assert wants_color(_Stream(tty=True), env={"NO_COLOR": ""})  # set but empty: ignored
    assert not wants_color(_Stream(tty=False), env={})


async def test_the_console_prints_bold_on_a_terminal() -> None:
    from bot.delivery.outbox import OutgoingMessage
    from bot.models import Destination
    from bot.platforms.console import ConsoleTransport
    from bot.render.neutral import Reply

    page = seed_search_pages()[0]
    for tty, marked in ((True, BOLD), (False, "[")):
        out = _Stream(tty)
        await ConsoleTransport(out).send(
            OutgoingMessage(Destination("console", "local", "shell"), Reply(page))
        )
        assert marked in out.getvalue()


def test_a_notice_with_papers_lists_them_with_their_day() -> None:
    out = render_text(Notice("Subscribed.", title="Done", papers=(make_paper(),)))
    assert out.startswith("Done\nSubscribed.\n1. A Study of Diffusion Models\n")
    assert "   https://arxiv.org/abs/2607.00001\n" in out and "Trended" in out
