import re

import pytest

from bot.render.escape import (
    ZWSP,
    clean_terminal,
    escape_discord,
    escape_discord_plain,
    escape_slack,
    escape_slack_link_label,
    escape_slack_url,
    one_line,
    strip_controls,
)
from tests.payload_checks import HOSTILE_TITLE

# --- Slack ------------------------------------------------------------------------------


def test_slack_escapes_control_characters_as_entities() -> None:
    assert escape_slack("a & b < c > d") == "a &amp; b &lt; c &gt; d"


@pytest.mark.parametrize(
    "ping", ["<!channel>", "<!here>", "<!everyone>", "<@U123ABC>", "<#C123|general>"]
)
def test_slack_cannot_be_made_to_ping(ping: str) -> None:
    out = escape_slack(f"hello {ping} there")
    assert "<" not in out and ">" not in out
    assert ping not in out


def test_slack_link_injection_is_inert() -> None:
    out = escape_slack("<http://evil.example|click me>")
    assert out == "&lt;http://evil.example|click me&gt;"


def test_slack_emphasis_characters_are_neutralised() -> None:
    out = escape_slack("*bold* _it_ ~st~ `code`")
    # Every emphasis character is fenced by zero-width spaces on both sides.
    for char in "*_~`":
        for match in re.finditer(re.escape(char), out):
            assert out[match.start() - 1] == ZWSP and out[match.end()] == ZWSP
    assert out.replace(ZWSP, "") == "*bold* _it_ ~st~ `code`"


def test_slack_bare_broadcast_words_are_broken() -> None:
    out = escape_slack("@channel @here @everyone")
    assert "@channel" not in out and "@here" not in out and "@everyone" not in out
    assert out.replace(ZWSP, "") == "@channel @here @everyone"


def test_slack_collapses_newlines_unless_multiline() -> None:
    assert escape_slack("a\n\n b\tc") == "a b c"
    assert escape_slack("a\n> b", multiline=True) == f"a\n{ZWSP}&gt; b"


def test_slack_link_label_also_replaces_pipe() -> None:
    out = escape_slack_link_label("a|b <c>")
    assert "|" not in out
    assert "&lt;c&gt;" in out


def test_slack_url_cannot_break_out_of_the_link() -> None:
    out = escape_slack_url("https://x.org/a?b=1&c=2|<!channel>")
    assert out == "https://x.org/a?b=1&amp;c=2%7C%3C!channel%3E"


def test_hostile_title_for_slack() -> None:
    out = escape_slack(HOSTILE_TITLE)
    assert "<!channel>" not in out and "<script>" not in out
    assert "@everyone" not in out
    assert "*bold*" not in out and "_x_" not in out


# --- Discord ----------------------------------------------------------------------------


def test_discord_escapes_inline_markdown() -> None:
    assert escape_discord("*a* _b_ ~c~ `d` |e| \\") == r"\*a\* \_b\_ \~c\~ \`d\` \|e\| \\"


def test_discord_masked_link_is_broken() -> None:
    assert escape_discord("[a](http://evil)") == r"\[a\]\(http://evil)"


def test_discord_plain_parentheses_are_left_alone() -> None:
    assert escape_discord("A model (with notes)") == "A model (with notes)"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("# Heading", r"\# Heading"),
        ("> quote", r"\> quote"),
        ("- item", r"\- item"),
        ("12. item", r"12\. item"),
        ("Large-scale models #1", "Large-scale models #1"),
    ],
)
def test_discord_line_start_markdown(raw: str, expected: str) -> None:
    assert escape_discord(raw) == expected


def test_discord_line_start_markdown_on_every_line() -> None:
    assert escape_discord("a\n# b\n- c", multiline=True) == "a\n\\# b\n\\- c"


@pytest.mark.parametrize("text", ["@everyone", "@here", "x@everyone!", "@HERE"])
def test_discord_broadcasts_are_broken(text: str) -> None:
    out = escape_discord(text)
    assert re.search("@(everyone|here)", out, re.I) is None
    assert out.replace(ZWSP, "") == text


@pytest.mark.parametrize("mention", ["<@123>", "<@!123>", "<@&456>", "<#789>", "</cmd:1>"])
def test_discord_mentions_are_broken(mention: str) -> None:
    out = escape_discord(f"hi {mention}")
    assert mention not in out
    assert re.search(r"(?<!\\)<[@#/]", out) is None
    assert ZWSP in out


def test_discord_plain_breaks_mentions_without_backslashes() -> None:
    out = escape_discord_plain("**Trent** <@123> @everyone")
    assert "\\" not in out
    assert "<@123>" not in out and "@everyone" not in out
    assert out.replace(ZWSP, "") == "**Trent** <@123> @everyone"


def test_hostile_title_for_discord() -> None:
    out = escape_discord(HOSTILE_TITLE)
    assert "@everyone" not in out
    assert "[a](" not in out
    assert "*bold*" not in out and "_x_" not in out
    assert re.search(r"(?<!\\)<", out) is None  # every < is escaped


# --- terminal and shared ----------------------------------------------------------------


def test_clean_terminal_removes_ansi_and_controls() -> None:
    raw = "red\x1b[31mtext\x1b[0m \x1b]0;title\x07bell\x07 nul\x00 del\x7f c1\x9b"
    assert clean_terminal(raw) == "redtext bell nul del c1"


def test_clean_terminal_removes_bidi_overrides() -> None:
    assert clean_terminal("abc\u202edef\u2066g") == "abcdefg"


def test_clean_terminal_keeps_unicode_and_newlines_when_asked() -> None:
    assert clean_terminal("Über 大模型 😀\nnext", multiline=True) == "Über 大模型 😀\nnext"
    assert clean_terminal("Über\nnext") == "Über next"


def test_strip_controls_keeps_tabs_and_newlines() -> None:
    assert strip_controls("a\tb\nc\rd") == "a\tb\ncd"


def test_one_line() -> None:
    assert one_line("  a\n b\u2028c  ") == "a b c"


@pytest.mark.parametrize("escape", [escape_slack, escape_discord, clean_terminal])
def test_every_escaper_strips_ansi(escape: object) -> None:
    assert callable(escape)
    assert "\x1b" not in escape("\x1b[2J\x1b[1mx")
