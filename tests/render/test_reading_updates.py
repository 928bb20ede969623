"""The "Your reading list" section of a daily alert, on every renderer: a line per change
with the paper's title (escaped) and link, alone or after the topics' papers."""

from __future__ import annotations

from bot.render.discord import render_discord
from bot.render.neutral import AlertGroup, SavedUpdate, TopicAlert
from bot.render.slack import render_slack
from bot.render.text import render_text
from tests.conftest import make_paper
from tests.payload_checks import (
    HOSTILE_TITLE,
    check_discord_message,
    check_slack_message,
    slack_texts,
)

SAVED = make_paper(id="1111.2011", arxiv_id="1111.2011", title="Quantum Criticality")
HOSTILE = make_paper(id="2611.00666", arxiv_id="2611.00666", title=HOSTILE_TITLE)
UPDATES = (
    SavedUpdate(SAVED, "version", "2"),
    SavedUpdate(SAVED, "doi", "10.1103/PhysRevB.85.115117"),
    SavedUpdate(HOSTILE, "journal_ref", "<@U123> *Nature* 612 (2026) @here"),
)
ONLY_UPDATES = TopicAlert((), UPDATES, more_updates=2)


def test_text_has_a_line_per_change_with_its_link() -> None:
    text = render_text(ONLY_UPDATES)
    assert text.startswith("5 updates to your reading list\n")  # 3 shown, 2 next time
    assert "Your reading list\n- Quantum Criticality — v2 posted\n" in text
    assert "- Quantum Criticality — DOI 10.1103/PhysRevB.85.115117\n" in text
    assert "   https://arxiv.org/abs/1111.2011\n" in text
    assert "…and 2 more in your next alert" in text


def test_slack_escapes_the_title_and_the_journal_reference() -> None:
    bodies = render_slack(ONLY_UPDATES, interactive=True)
    for body in bodies:
        check_slack_message(body)
    texts = "\n".join(t for body in bodies for t in slack_texts(body))
    assert "*Your reading list*" in texts
    assert "• <https://arxiv.org/abs/1111.2011|Quantum Criticality> — v2 posted" in texts
    assert "DOI 10.1103/PhysRevB.85.115117" in texts
    hostile = next(line for line in texts.splitlines() if "2611.00666" in line)
    assert "<!channel>" not in hostile and "&lt;!channel&gt;" in hostile
    assert "<@U123>" not in hostile and "published in &lt;@U123&gt;" in hostile
    assert "<script>" not in hostile and "@everyone" not in hostile and "@here" not in hostile
    assert "|" not in hostile.split("|", 1)[1].split(">", 1)[0]  # the label cannot end it


def test_discord_escapes_the_title_and_the_journal_reference() -> None:
    [body] = render_discord(ONLY_UPDATES)
    check_discord_message(body)
    assert body["content"].startswith("**5 updates to your reading list**")
    [embed] = body["embeds"]
    assert embed["title"] == "Your reading list"
    lines = embed["description"].splitlines()
    assert lines[0] == "• [Quantum Criticality](https://arxiv.org/abs/1111.2011) — v2 posted"
    hostile = lines[2]
    assert "\\[a\\]\\(http://evil)" in hostile and "\\*bold\\*" in hostile
    assert "<@U123>" not in hostile and "@everyone" not in hostile and "@here" not in hostile
    assert body["allowed_mentions"] == {"parse": []}
    assert lines[-1] == "…and 2 more in your next alert"


def test_the_section_follows_the_topics_papers() -> None:
    alert = TopicAlert((AlertGroup("diffusion", (make_paper(),)),), UPDATES[:1])
    text = render_text(alert)
    assert text.startswith("1 new paper for your topics")
    assert text.index("Topic “diffusion”") < text.index("Your reading list")
    slack = [t for body in render_slack(alert) for t in slack_texts(body)]
    assert any("v2 posted" in t for t in slack)
    [body] = render_discord(alert)
    assert [e["title"] for e in body["embeds"]][-1] == "Your reading list"


def test_many_changes_fit_every_platform() -> None:
    long = make_paper(title="A" * 600 + " & <b>")
    alert = TopicAlert((), tuple(SavedUpdate(long, "journal_ref", "J" * 400) for _ in range(20)))
    for body in render_slack(alert):
        check_slack_message(body)
    bodies = render_discord(alert)
    for body in bodies:
        check_discord_message(body)
    shown = sum(e["description"].count("• ") for b in bodies for e in b["embeds"])
    assert shown == 20
