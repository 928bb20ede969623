import re
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from bot.models import Signals
from bot.render import common
from bot.render.discord import embed_length, render_discord
from bot.render.limits import shorten
from bot.render.neutral import Digest, Help, HelpTopic, Highlighted, Hit, Notice, SearchPage
from tests.conftest import make_paper
from tests.payload_checks import (
    big_digest,
    check_discord_message,
    discord_embed_length,
    discord_texts,
    edge_highlights,
    hostile_paper,
    huge_paper,
    seed_digests,
    seed_search_pages,
)

DAY = date(2026, 5, 9)
Body = dict[str, Any]
UNESCAPED_MENTION = re.compile(r"(?<!\\)<(@!?|@&|#)\d+>")


def _checked(bodies: list[Body]) -> list[Body]:
    assert bodies
    for body in bodies:
        check_discord_message(body)
        assert body["allowed_mentions"] == {"parse": []}
    return bodies


def _embeds(bodies: list[Body]) -> list[dict[str, Any]]:
    return [embed for body in bodies for embed in body["embeds"]]


def _all_text(bodies: list[Body]) -> str:
    return "\n".join(t for body in bodies for t in discord_texts(body))


def _unescape(text: str) -> str:
    """Roughly what Discord shows: backslash escapes and zero-width spaces gone."""
    return re.sub(r"\\(.)", r"\1", text).replace("\u200b", "")


# --- digests ----------------------------------------------------------------------------


def test_digest_layout() -> None:
    paper = make_paper(
        authors=("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
        signals=Signals(
            upvotes=42, github_repo="https://github.com/a/b", thumbnail="https://t.org/1.png"
        ),
        abstract="We study diffusion. It works. More.",
    )
    [body] = _checked(render_discord(Digest(DAY, (paper,), topic="vision", note="Early.")))
    assert body["content"].splitlines() == [
        "**Trending papers · Saturday, 9 May 2026** · topic: vision",
        "Early.",
        "-# Search: `/papers search <words>` · Alerts: `/papers subscribe <topic>`"
        " · Help: `/papers help`",
    ]
    [embed] = body["embeds"]
    assert embed["title"] == "1. A Study of Diffusion Models"
    assert embed["url"] == "https://arxiv.org/abs/2607.00001"
    assert embed["description"] == "We study diffusion. It works."
    assert embed["fields"] == [
        {"name": "Upvotes", "value": "▲ 42", "inline": True},
        {"name": "Code", "value": "[github.com/a/b](https://github.com/a/b)", "inline": True},
    ]
    assert embed["footer"] == {"text": "A. Lovelace, A. Turing, G. Hopper et al."}
    assert embed["thumbnail"] == {"url": "https://t.org/1.png"}


def test_unknown_signals_are_left_out() -> None:
    paper = make_paper(signals=Signals(), trending=(), authors=(), arxiv_id=None, links=())
    [embed] = _embeds(_checked(render_discord(Digest(DAY, (paper,)))))
    assert "fields" not in embed and "footer" not in embed
    assert "thumbnail" not in embed and "url" not in embed


def test_compact_description_is_shorter() -> None:
    paper = make_paper(abstract="We study diffusion. It works. More.")
    [compact] = _embeds(render_discord(Digest(DAY, (paper,), style="compact")))
    assert compact["description"] == "We study diffusion."


def test_empty_digest_says_so() -> None:
    [body] = _checked(render_discord(Digest(DAY, ())))
    assert body["embeds"] == []
    assert common.EMPTY_DIGEST in body["content"]
    assert "/papers help" in body["content"]


def test_empty_abstract_has_no_description() -> None:
    paper = make_paper(abstract="")
    [embed] = _embeds(_checked(render_discord(Digest(DAY, (paper,)))))
    assert "description" not in embed


def test_every_seed_digest_renders_within_limits() -> None:
    for digest in seed_digests():
        bodies = _checked(render_discord(digest))
        embeds = _embeds(bodies)
        assert len(embeds) == len(digest.papers)
        for number, (embed, paper) in enumerate(zip(embeds, digest.papers, strict=True), 1):
            assert embed["title"].startswith(f"{number}. ")
            assert _unescape(embed["title"]) == f"{number}. {shorten(paper.title, 251)}"
            limit = 600 if digest.style == "full" else 350
            assert 0 < len(embed["description"]) <= limit


def test_120_papers_split_at_five_embeds_one_row_of_buttons_each() -> None:
    bodies = _checked(render_discord(big_digest(120)))
    assert len(bodies) >= 24 and max(len(b["embeds"]) for b in bodies) <= 5
    titles = [e["title"] for e in _embeds(bodies)]
    assert [int(t.split(".")[0]) for t in titles] == list(range(1, 121))
    assert bodies[0]["content"].startswith("**Trending papers")
    assert all(not b["content"] for b in bodies[1:-1])
    assert "/papers help" in bodies[-1]["content"]
    assert "/papers help" not in _all_text(bodies[:-1])


def test_split_on_total_embed_size_before_ten_embeds() -> None:
    # Search results with long titles and snippets: ~800 characters each, so 6000 binds first.
    hits = tuple(_hit(Highlighted("T " * 125), Highlighted("S " * 250)) for _ in range(30))
    bodies = _checked(render_discord(SearchPage("t", hits)))
    sizes = [sum(embed_length(e) for e in b["embeds"]) for b in bodies]
    counts = [len(b["embeds"]) for b in bodies]
    assert max(counts) < 10
    assert all(size <= 6000 for size in sizes)
    assert max(sizes) > 5000  # packed, not one per message
    assert sum(counts) == 30


def test_embed_length_agrees_with_checker() -> None:
    for embed in _embeds(render_discord(big_digest(12))):
        assert embed_length(embed) == discord_embed_length(embed)


def test_huge_paper_fits() -> None:
    bodies = _checked(render_discord(Digest(DAY, (huge_paper(),) * 12)))
    embed = _embeds(bodies)[0]
    assert len(embed["title"]) <= 256 and embed["title"].endswith("…")
    assert embed["footer"]["text"].endswith("et al.")
    assert "description" not in embed  # empty abstract


def test_hostile_paper_cannot_ping_or_format() -> None:
    bodies = _checked(render_discord(Digest(DAY, (hostile_paper(),), topic="@everyone *x*")))
    text = _all_text(bodies)
    assert "@everyone" not in text and "@here" not in text
    assert UNESCAPED_MENTION.search(text) is None
    [embed] = _embeds(bodies)
    assert "[a](" not in embed["title"]
    assert "*bold*" not in embed["title"] and "_x_" not in embed["title"]
    assert re.search(r"(?<!\\)\*", embed["description"]) is None
    assert _unescape(embed["title"]).startswith("1. <!channel> @everyone <script>")
    # The footer shows no markdown, so it is not backslash-escaped, only de-mentioned.
    footer = embed["footer"]["text"]
    assert footer.replace("\u200b", "") == "<!here> Mallory, @everyone Eve, **Trent**"
    code = next(f for f in embed["fields"] if f["name"] == "Code")["value"]
    assert (
        code == "[github.com/evil/repo\\|\\<!channel>](https://github.com/evil/repo|%3C!channel%3E)"
    )


def test_javascript_urls_are_not_linked() -> None:
    paper = replace(make_paper(arxiv_id=None), links=("javascript:alert(1)",))
    [embed] = _embeds(_checked(render_discord(Digest(DAY, (paper,)))))
    assert "url" not in embed


# --- search -----------------------------------------------------------------------------


def _hit(title: Highlighted, snippet: Highlighted | None = None) -> Hit:
    paper = make_paper(title=title.text)
    return Hit(paper, 1.0, title, snippet or Highlighted("We study diffusion models."))


def test_search_page_layout() -> None:
    hit = _hit(
        Highlighted("Diffusion Models", ((0, 9),)),
        Highlighted("We study diffusion models.", ((9, 18),)),
    )
    [body] = _checked(render_discord(SearchPage("diffusion", (hit,), has_more=True, note="Some.")))
    assert body["content"].splitlines() == [
        "**Results 1\u20131 for “diffusion”**",
        "Some.",
        "More: there are more results. Add words to narrow the search.",
    ]
    [embed] = body["embeds"]
    assert embed["title"] == "1. **Diffusion** Models"
    assert embed["description"] == "We study **diffusion** models."
    assert {"name": "Trended", "value": "Wednesday, 1 July 2026", "inline": True} in embed["fields"]


def test_edge_and_overlapping_highlights() -> None:
    hit = _hit(edge_highlights("Attention Is All You Need"))
    [embed] = _embeds(_checked(render_discord(SearchPage("x", (hit,)))))
    assert embed["title"] == "1. **Attention Is** All You **Need**"


def test_mid_word_highlight_is_bolded() -> None:
    hit = _hit(Highlighted("Hallucinating models", ((0, 10),)))
    [embed] = _embeds(render_discord(SearchPage("x", (hit,))))
    assert embed["title"] == "1. **Hallucinat**ing models"


def test_no_results() -> None:
    [body] = _checked(render_discord(SearchPage("@everyone <@1>", ())))
    assert body["embeds"] == []
    assert "@everyone" not in body["content"]
    assert UNESCAPED_MENTION.search(body["content"]) is None
    assert common.NO_RESULTS_HINT in body["content"]


def test_every_seed_search_page_renders() -> None:
    for page in seed_search_pages():
        bodies = _checked(render_discord(page))
        assert len(_embeds(bodies)) == len(page.hits)
        if page.hits:
            assert "**" in _all_text([{"e": _embeds(bodies)}])
            assert ("More:" in bodies[-1]["content"]) is page.has_more


# --- help and notices -------------------------------------------------------------------


def test_help() -> None:
    help_ = Help(
        "paperwire",
        (HelpTopic("/papers search <words>", "Search *all*"), HelpTopic("/papers `help`", "x")),
        footer="Docs",
        error="Unknown @everyone",
    )
    [body] = _checked(render_discord(help_))
    assert body["content"] == "⚠️ Unknown @\u200beveryone"
    [embed] = body["embeds"]
    assert embed["title"] == "paperwire"
    assert embed["description"].splitlines() == [
        "`/papers search <words>` — Search \\*all\\*",
        "`/papers \u02cbhelp\u02cb` — x",
    ]
    assert embed["footer"] == {"text": "Docs"}


def test_help_with_many_topics_stays_within_limits() -> None:
    topics = tuple(HelpTopic(f"/papers cmd{i}", "x" * 400) for i in range(50))
    _checked(render_discord(Help("many", topics)))


def test_notice_is_content() -> None:
    [body] = _checked(render_discord(Notice("Saved *all*.\n# Not a heading", title="OK")))
    assert body["content"] == "**OK**\nSaved \\*all\\*.\n\\# Not a heading"
    assert body["embeds"] == []
    [error] = _checked(render_discord(Notice("Nope", is_error=True)))
    assert error["content"] == "⚠️ Nope"


def test_a_notice_with_code_shows_it_verbatim_in_a_block() -> None:
    code = "@misc{k,\n  title = {R\\&D *x* ```end```},\n}"
    [body] = _checked(render_discord(Notice("reading-list.bib: 1 entry.", code=code)))
    assert body["content"] == (
        "reading-list.bib: 1 entry.\n```\n@misc{k,\n"
        "  title = {R\\&D *x* `\u200b``end`\u200b``},\n}\n```"
    )


def test_long_notice_is_split() -> None:
    bodies = _checked(render_discord(Notice("word_with_escapes " * 400)))
    assert len(bodies) >= 4
    assert all(not b["content"].endswith("\\") for b in bodies)


# --- the checker itself -----------------------------------------------------------------


def _good() -> Body:
    return {
        "content": "hi",
        "embeds": [{"title": "t", "description": "d", "fields": [], "footer": {"text": "f"}}],
        "allowed_mentions": {"parse": []},
    }


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda b: b.update(content="x" * 2001), "body.content: 2001 characters"),
        (lambda b: b.update(allowed_mentions={"parse": ["everyone"]}), "allowed_mentions"),
        (lambda b: b.pop("allowed_mentions"), "allowed_mentions"),
        (lambda b: b.update(content="hi @everyone"), "@everyone"),
        (lambda b: b.update(content="hi <@123>"), "mention"),
        (lambda b: b["embeds"].extend([{"title": "t"}] * 10), "11 > 10"),
        (lambda b: b["embeds"][0].update(title="t" * 257), "title: 257 characters"),
        (lambda b: b["embeds"][0].update(description="d" * 4097), "description: 4097"),
        (
            lambda b: b["embeds"][0].update(fields=[{"name": "n", "value": "v" * 1025}]),
            "fields[0].value: 1025",
        ),
        (
            lambda b: b["embeds"][0].update(fields=[{"name": "n", "value": "v"}] * 26),
            "26 fields",
        ),
        (lambda b: b["embeds"][0].update(footer={"text": "f" * 2049}), "footer.text: 2049"),
        (lambda b: b["embeds"][0].update(author={"name": "a" * 257}), "author.name: 257"),
        (
            lambda b: b["embeds"].extend([{"description": "d" * 4000}] * 2),
            "8003 characters in all embeds",
        ),
        (lambda b: b["embeds"][0].update(url="javascript:alert(1)"), "http(s) URL"),
        (lambda b: b.update(content="", embeds=[]), "empty message"),
    ],
)
def test_checker_rejects_bad_messages(breakage: Any, message: str) -> None:
    body = _good()
    check_discord_message(body)
    breakage(body)
    with pytest.raises(AssertionError, match=re.escape(message)):
        check_discord_message(body)


def test_a_notice_with_papers_shows_them_as_embeds() -> None:
    papers = (hostile_paper(), make_paper(), make_paper(title="Third"))
    [body] = _checked(render_discord(Notice("Subscribed.", title="Your topics", papers=papers)))
    assert body["content"] == "**Your topics**\nSubscribed."
    assert [e["title"][:3] for e in body["embeds"]] == ["1. ", "2. ", "3. "]
    assert body["embeds"][1]["fields"][0]["value"] == "Wednesday, 1 July 2026"
    long = _checked(render_discord(Notice("word " * 2000, papers=papers)))
    assert len(long) > 1 and [len(b["embeds"]) for b in long][-1] == 3
