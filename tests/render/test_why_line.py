"""The line saying why a channel's taste lifted a paper: on each platform, only under the
papers it lifted, escaped like any text (a reason never pings or breaks the formatting)."""

from __future__ import annotations

from datetime import date

from bot.delivery import codec
from bot.render.discord import render_discord
from bot.render.neutral import Digest, Reply
from bot.render.slack import render_slack
from bot.render.text import render_text
from tests.conftest import make_paper
from tests.payload_checks import check_discord_message, check_slack_message, huge_paper

DAY = date(2026, 7, 1)
LIFTED = make_paper(id="2607.00001", title="Robot hands that feel")
PLAIN = make_paper(id="2607.00002", title="Instruction tuning study")
WHY = "like 3 papers this channel liked"
HOSTILE = "like <!channel> *bold* _it_ `code` <https://x.y|click> & more"
DIGEST = Digest(DAY, (LIFTED, PLAIN), reasons=(WHY, None))


def test_slack_shows_the_why_line_in_italics_under_the_lifted_paper_only() -> None:
    [body] = render_slack(DIGEST, interactive=True)
    check_slack_message(body)
    sections = [b["text"]["text"] for b in body["blocks"] if b["type"] == "section"]
    assert f"_\u2191 {WHY}_" in sections[0]
    assert "\u2191" not in sections[1]


def test_discord_shows_the_why_line_first_in_the_lifted_papers_embed() -> None:
    [body] = render_discord(DIGEST)
    check_discord_message(body)
    first, second = body["embeds"]
    assert first["description"].startswith(f"*\u2191 {WHY}*\n\n")
    assert "\u2191" not in second.get("description", "")


def test_text_shows_the_why_line_under_the_title() -> None:
    lines = render_text(DIGEST).splitlines()
    at = lines.index("1. Robot hands that feel")
    assert lines[at + 1] == f"   \u2191 {WHY}"
    assert sum("\u2191" in line for line in lines) == 1


def test_a_why_line_is_escaped_and_fits_on_every_platform() -> None:
    digest = Digest(DAY, (LIFTED, huge_paper()), reasons=(HOSTILE, HOSTILE * 40))
    slack = render_slack(digest, interactive=True)
    for body in slack:
        check_slack_message(body)  # no mention, no raw link, within limits
    slack_text = str(slack)
    assert "<!channel>" not in slack_text and "&lt;!channel&gt;" in slack_text
    discord = render_discord(digest)
    for body in discord:
        check_discord_message(body)
    first = discord[0]["embeds"][0]["description"].split("\n\n")[0]
    assert r"\*bold\*" in first and "@" not in first
    assert "\x1b" not in render_text(Digest(DAY, (LIFTED,), reasons=("\x1b[31mred",)))


def test_reasons_survive_the_outbox() -> None:
    reply = Reply(DIGEST, ephemeral=False)
    restored = codec.loads(codec.dumps(reply))
    assert isinstance(restored.content, Digest) and restored.content.reasons == (WHY, None)
    # A digest stored before reasons existed still reads.
    old = codec.dumps(Reply(Digest(DAY, (PLAIN,)), ephemeral=False)).replace(',"reasons":[]', "")
    assert '"reasons"' not in old and codec.loads(old).content == Digest(DAY, (PLAIN,))
