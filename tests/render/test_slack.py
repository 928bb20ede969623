import re
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from bot.models import Signals
from bot.render import common
from bot.render.escape import ZWSP
from bot.render.neutral import Digest, Help, HelpTopic, Highlighted, Hit, Notice, SearchPage
from bot.render.slack import render_slack
from tests.conftest import make_paper
from tests.payload_checks import (
    HOSTILE_TITLE,
    big_digest,
    check_slack_message,
    edge_highlights,
    hostile_paper,
    huge_paper,
    seed_digests,
    seed_search_pages,
    slack_texts,
)

DAY = date(2026, 5, 9)
Body = dict[str, Any]


def _checked(bodies: list[Body]) -> list[Body]:
    assert bodies
    for body in bodies:
        check_slack_message(body)
        assert "channel" not in body and "link_names" not in body and "parse" not in body
    return bodies


def _sections(bodies: list[Body]) -> list[str]:
    return [b["text"]["text"] for body in bodies for b in body["blocks"] if b["type"] == "section"]


def _all_text(bodies: list[Body]) -> str:
    return "\n".join(t for body in bodies for t in slack_texts(body))


def _visible(mrkdwn: str) -> str:
    """Roughly what Slack shows: entities decoded, our zero-width spaces gone."""
    text = mrkdwn.replace(ZWSP, "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --- digests ----------------------------------------------------------------------------


def test_digest_layout() -> None:
    paper = make_paper(
        authors=("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
        signals=Signals(upvotes=42, github_repo="https://github.com/a/b"),
        abstract="We study diffusion. It works. More.",
    )
    [body] = _checked(render_slack(Digest(DAY, (paper,), topic="vision", note="Early list.")))
    blocks = body["blocks"]
    heading = "Trending papers · Saturday, 9 May 2026"
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": heading, "emoji": True},
    }
    assert [e["text"] for e in blocks[1]["elements"]] == ["Topic: *vision*", "Early list."]
    assert blocks[2]["text"]["text"] == (
        "*1. <https://arxiv.org/abs/2607.00001|A Study of Diffusion Models>*\n"
        "A. Lovelace, A. Turing, G. Hopper et al. · ▲ 42 · <https://github.com/a/b|code>\n"
        "We study diffusion. It works."
    )
    assert blocks[2]["text"]["verbatim"] is True
    assert blocks[-1]["type"] == "context"
    assert "/papers search &lt;words&gt;" in blocks[-1]["elements"][0]["text"]
    assert "/papers help" in blocks[-1]["elements"][0]["text"]
    assert body["text"] == "Trending papers · Saturday, 9 May 2026 · topic: vision"


def test_compact_style_is_shorter_than_full() -> None:
    paper = make_paper(abstract="We study diffusion. It works. More.")
    full = _sections(render_slack(Digest(DAY, (paper,), style="full")))[0]
    compact = _sections(render_slack(Digest(DAY, (paper,), style="compact")))[0]
    assert compact.endswith("\nWe study diffusion.")
    assert full.endswith("\nWe study diffusion. It works.")


def test_paper_without_url_is_not_linked() -> None:
    paper = make_paper(arxiv_id=None, links=())
    section = _sections(render_slack(Digest(DAY, (paper,))))[0]
    assert section.startswith("*1. A Study of Diffusion Models*")
    assert "<" not in section


def test_empty_digest_says_so() -> None:
    [body] = _checked(render_slack(Digest(DAY, ())))
    assert common.EMPTY_DIGEST in _all_text([body])


def test_empty_abstract_leaves_no_blank_line() -> None:
    paper = make_paper(abstract="", signals=Signals(upvotes=1))
    section = _sections(_checked(render_slack(Digest(DAY, (paper,)))))[0]
    assert not section.endswith("\n")
    assert "\n\n" not in section


def test_every_seed_digest_renders_within_limits() -> None:
    for digest in seed_digests():
        bodies = _checked(render_slack(digest))
        sections = [s for s in _sections(bodies) if re.match(r"\*\d+\. ", s)]
        assert len(sections) == len(digest.papers)
        for number, (section, paper) in enumerate(zip(sections, digest.papers, strict=True), 1):
            assert section.startswith(f"*{number}. ")
            assert _visible(paper.title) in _visible(section)


def test_120_papers_split_into_messages_of_at_most_50_blocks() -> None:
    digest = big_digest(120)
    bodies = _checked(render_slack(digest))
    assert len(bodies) >= 3
    assert all(len(body["blocks"]) <= 50 for body in bodies)
    numbers = [int(m) for s in _sections(bodies) for m in re.findall(r"^\*(\d+)\. ", s)]
    assert numbers == list(range(1, 121))
    headers = [i for i, body in enumerate(bodies) for b in body["blocks"] if b["type"] == "header"]
    assert headers == [0]
    footers = [i for i, body in enumerate(bodies) if "/papers help" in _all_text([body])]
    assert footers == [len(bodies) - 1]
    assert bodies[0]["text"].endswith(f"(1/{len(bodies)})")
    # No message starts or ends with a divider.
    for body in bodies:
        assert body["blocks"][0]["type"] != "divider"
        assert body["blocks"][-1]["type"] != "divider"


def test_huge_paper_fits() -> None:
    bodies = _checked(render_slack(Digest(DAY, (huge_paper(),) * 3)))
    for section in _sections(bodies):
        assert len(section) <= 3000
    first = _sections(bodies)[0]
    assert "…" in first
    assert "et al." in first
    assert "Number299" not in first


def test_hostile_paper_cannot_ping_or_format() -> None:
    bodies = _checked(render_slack(Digest(DAY, (hostile_paper(),), topic="<!here> *x*")))
    text = _all_text(bodies)
    for bad in ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<#C1>", "<script>"):
        assert bad not in text
    assert "@everyone" not in text and "@here" not in text
    assert "*bold*" not in text and "_x_" not in text and "~struck~" not in text
    # The code link cannot break out of its <url|label>.
    assert "<https://github.com/evil/repo%7C%3C!channel%3E|code>" in text
    section = _sections(bodies)[0]
    assert _visible(section).startswith(f"*1. <https://arxiv.org/abs/2601.00001|{HOSTILE_TITLE}")


def test_hostile_title_link_label_has_no_pipe() -> None:
    paper = replace(make_paper(), title="a|b")
    section = _sections(render_slack(Digest(DAY, (paper,))))[0]
    assert "|a|b>" not in section
    assert section.startswith("*1. <https://arxiv.org/abs/2607.00001|a\u2223b>*")


# --- search -----------------------------------------------------------------------------


def _hit(title: Highlighted, snippet: Highlighted | None = None) -> Hit:
    paper = make_paper(title=title.text)
    return Hit(paper, 1.0, title, snippet or Highlighted("We study diffusion models."))


def test_search_page_layout() -> None:
    hit = _hit(
        Highlighted("Diffusion Models", ((0, 9),)),
        Highlighted("We study diffusion models.", ((9, 18),)),
    )
    page = SearchPage("diffusion", (hit,), has_more=True, note="Some words only.")
    [body] = _checked(render_slack(page))
    blocks = body["blocks"]
    assert blocks[0]["text"]["text"] == "*Results 1\u20131 for “diffusion”*"
    assert blocks[1]["elements"][0]["text"] == "Some words only."
    assert blocks[2]["text"]["text"] == (
        "1. <https://arxiv.org/abs/2607.00001|*Diffusion* Models>\nWe study *diffusion* models."
    )
    assert blocks[3]["elements"][0]["text"] == (
        "Trended Wednesday, 1 July 2026 · A. Lovelace, A. Turing · ▲ 10"
    )
    assert "More: there are more results" in blocks[-1]["elements"][0]["text"]


def test_search_highlights_whole_words() -> None:
    hit = _hit(Highlighted("Hallucinating models", ((0, 10),)))
    section = _sections(render_slack(SearchPage("hallucinate", (hit,))))[1]
    assert "|*Hallucinating* models>" in section


def test_edge_and_overlapping_highlights() -> None:
    hit = _hit(edge_highlights("Attention Is All You Need"))
    section = _sections(_checked(render_slack(SearchPage("x", (hit,)))))[1]
    assert "|*Attention Is* All You *Need*>" in section
    assert "**" not in section


def test_hostile_query_is_escaped() -> None:
    [body] = _checked(render_slack(SearchPage("<!channel> *x*", ())))
    text = _all_text([body])
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text
    assert common.NO_RESULTS_HINT in text


def test_hostile_hit_is_escaped() -> None:
    hit = Hit(hostile_paper(), 1.0, Highlighted(HOSTILE_TITLE, ((1, 8),)), Highlighted("<@U1>"))
    text = _all_text(_checked(render_slack(SearchPage("channel", (hit,)))))
    assert "<!channel>" not in text and "<@U1>" not in text


def test_every_seed_search_page_renders() -> None:
    pages = seed_search_pages()
    for page in pages:
        bodies = _checked(render_slack(page))
        if page.hits:
            assert "*" in _sections(bodies)[1]  # matched words are bold
            assert ("More:" in _all_text(bodies)) is page.has_more


def test_many_hits_split() -> None:
    hits = tuple(_hit(Highlighted(f"Paper {i}", ((0, 5),))) for i in range(40))
    bodies = _checked(render_slack(SearchPage("paper", hits, has_more=True)))
    assert len(bodies) >= 2
    assert "More:" in _all_text(bodies[-1:]) and "More:" not in _all_text(bodies[:-1])


# --- help and notices -------------------------------------------------------------------


def test_help() -> None:
    help_ = Help(
        "paperwire",
        (HelpTopic("/papers search <words>", "Search"), HelpTopic("/papers help", "This")),
        footer="Docs",
        error="Unknown “<!here>”",
    )
    [body] = _checked(render_slack(help_))
    sections = _sections([body])
    assert sections[0] == ":warning: Unknown “&lt;!here&gt;”"
    assert sections[1] == "*paperwire*"
    assert "`/papers search &lt;words&gt;`  Search\n`/papers help`  This" in sections[2]


def test_help_with_many_topics_stays_within_limits() -> None:
    topics = tuple(HelpTopic(f"/papers cmd{i} <arg>", "x" * 400) for i in range(300))
    bodies = _checked(render_slack(Help("many", topics)))
    assert sum(s.count("`/papers cmd") for s in _sections(bodies)) == 300


def test_notice() -> None:
    [body] = _checked(render_slack(Notice("Saved & done.\nBye", title="OK")))
    assert _sections([body]) == ["*OK*\nSaved &amp; done.\nBye"]
    [error] = _checked(render_slack(Notice("Nope", is_error=True)))
    assert _sections([error]) == [":warning: Nope"]


def test_a_notice_with_code_shows_it_verbatim_in_a_block() -> None:
    code = "@misc{k,\n  title = {R\\&D <@U1> *x* ```end``` @channel},\n}"
    [body] = _checked(render_slack(Notice("reading-list.bib: 1 entry.", title="List", code=code)))
    assert _sections([body]) == [
        "*List*\nreading-list.bib: 1 entry.\n```\n@misc{k,\n"
        f"  title = {{R\\&amp;D &lt;@U1&gt; *x* `{ZWSP}``end`{ZWSP}`` @channel}},\n}}\n```"
    ]


def test_long_notice_is_split_into_sections() -> None:
    bodies = _checked(render_slack(Notice("word & " * 2000)))
    assert len(_sections(bodies)) >= 5


# --- the checker itself -----------------------------------------------------------------


def _good() -> Body:
    return {"text": "hi", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]}


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda b: b["blocks"].extend([{"type": "divider"}] * 50), "blocks > limit 50"),
        (lambda b: b["blocks"][0]["text"].update(text="x" * 3001), "3001 characters"),
        (lambda b: b["blocks"][0]["text"].update(text="hi <!channel>"), "<!channel"),
        (lambda b: b["blocks"][0]["text"].update(text="a < b"), "stray unescaped"),
        (lambda b: b["blocks"][0]["text"].update(text="<@U123>"), "not a plain link"),
        (lambda b: b.update(text="Tom & Jerry"), "unescaped &"),
        (lambda b: b.update(link_names=True), "link_names"),
        (
            lambda b: b["blocks"].append(
                {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
            ),
            "blocks[1] (header)",
        ),
        (
            lambda b: b["blocks"].append(
                {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}
            ),
            "blocks[1] (context)",
        ),
        (
            lambda b: b["blocks"][0].update(fields=[{"type": "mrkdwn", "text": "f" * 2001}]),
            "fields[0].text: 2001",
        ),
        (lambda b: b["blocks"].append({"type": "nonsense"}), "unknown block type"),
        (lambda b: b["blocks"][0]["text"].update(text=""), "is empty"),
    ],
)
def test_checker_rejects_bad_messages(breakage: Any, message: str) -> None:
    body = _good()
    check_slack_message(body)
    breakage(body)
    with pytest.raises(AssertionError, match=re.escape(message)):
        check_slack_message(body)


def test_checker_allows_mentions_only_when_asked() -> None:
    body = _good()
    body["blocks"][0]["text"]["text"] = "<@U123> asked"
    check_slack_message(body, allow_mentions=True)
    body["blocks"][0]["text"]["text"] = "<!channel> asked"
    with pytest.raises(AssertionError):
        check_slack_message(body, allow_mentions=True)


def test_abstracts_thread_reply_holds_every_full_abstract_within_limits() -> None:
    from bot.render.slack import render_slack_abstracts

    digest = big_digest(60)
    bodies = render_slack_abstracts(digest)
    assert len(bodies) >= 2  # 60 papers do not fit in 50 blocks
    for body in bodies:
        check_slack_message(body)
    text = "\n".join(
        b["blocks"][i]["text"]["text"]
        for b in bodies
        for i in range(len(b["blocks"]))
        if b["blocks"][i]["type"] == "section"
    )
    for number in (1, 60):
        assert f"*{number}. " in text
    hostile = render_slack_abstracts(Digest(day=digest.day, papers=(hostile_paper(),)))
    check_slack_message(hostile[0])
    assert "<!channel>" not in str(hostile)
    assert render_slack_abstracts(Digest(day=digest.day, papers=())) == []


def test_a_notice_with_papers_shows_them_within_limits() -> None:
    papers = (hostile_paper(), make_paper(), make_paper(title="Third"))
    [body] = _checked(render_slack(Notice("Subscribed.", title="Your topics", papers=papers)))
    sections = _sections([body])
    assert len(sections) == 4 and sections[3].startswith("*3. <https://arxiv.org/abs/")
    assert "Trended" in sections[2]
    long = _checked(render_slack(Notice("word & " * 25_000, papers=papers)))
    assert len(long) == 2 and "*3. " in _sections(long)[-1]
