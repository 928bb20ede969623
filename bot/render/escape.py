"""Escaping of untrusted text (titles, abstracts, authors, the user's query) per platform.

Every escaper first drops control characters and, unless `multiline=True`, collapses all
whitespace (newlines included) to single spaces, because most places expect one line.
"""

from __future__ import annotations

import re
import unicodedata

from bot.models import scrub_text

ZWSP = "\u200b"

# CSI (colours, cursor moves), OSC (titles, hyperlinks; ended by BEL or ST), then any other
# two-character escape.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?", re.S)
# Bidi overrides and isolates can make text display in an order other than its own.
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_KEEP_CONTROLS = "\n\t"

_SLACK_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SLACK_EMPHASIS = re.compile(r"[*_~`]")
_BROADCAST = re.compile(r"@(everyone|here|channel)", re.I)
_SLACK_QUOTE = re.compile(r"^&gt;", re.M)

_DISCORD_ANYWHERE = re.compile(r"([\\*_~`|\[\]<])")
# Only special at the start of a line: headings, quotes, lists, subtext.
_DISCORD_LINE_START = re.compile(r"^(\s*)([#>\-+])", re.M)
_DISCORD_NUMBERED = re.compile(r"^(\s*\d+)\.(?=\s)", re.M)
_DISCORD_LINK_PAREN = re.compile(r"(?<=\])\(")
_DISCORD_MENTION = re.compile(r"(\\<)([@#]&?|/|a?:|t:)")


def strip_controls(text: str) -> str:
    """`text` without ANSI escapes, control characters and bidi overrides (keeps \\n, \\t),
    and with lone surrogates as U+FFFD: a user's command can carry one, no platform takes it."""
    text = scrub_text(_ANSI.sub("", text)).translate(_BIDI)
    return "".join(ch for ch in text if ch in _KEEP_CONTROLS or unicodedata.category(ch) != "Cc")


def one_line(text: str) -> str:
    """All runs of whitespace, newlines included, as single spaces; trimmed."""
    return " ".join(text.split())


def _prepare(text: str, multiline: bool) -> str:
    text = strip_controls(text)
    if multiline:
        return "\n".join(one_line(line) for line in text.splitlines()).strip("\n")
    return one_line(text)


def clean_terminal(text: str, *, multiline: bool = False) -> str:
    """Untrusted text made safe to print to a terminal."""
    return _prepare(text, multiline)


def escape_slack(text: str, *, multiline: bool = False) -> str:
    """Untrusted text for Slack mrkdwn (and the message `text` fallback).

    `& < >` become entities, which stops `<!channel>`, `<@U123>` and `<url|label>` injection.
    Slack has no escape for `* _ ~ \\``, so a zero-width space on each side keeps them from
    opening or closing emphasis; bare `@channel`-style words get one too.
    """
    text = _prepare(text, multiline)
    text = "".join(_SLACK_ENTITIES.get(ch, ch) for ch in text)
    text = _SLACK_EMPHASIS.sub(lambda m: f"{ZWSP}{m.group(0)}{ZWSP}", text)
    text = _SLACK_QUOTE.sub(f"{ZWSP}&gt;", text)  # a line starting with ">" is a quote
    return _BROADCAST.sub(lambda m: f"@{ZWSP}{m.group(1)}", text)


def escape_slack_link_label(text: str) -> str:
    """Untrusted text for the label of `<url|label>`; `|` would end the URL part."""
    return escape_slack(text).replace("|", "\u2223")  # DIVIDES, a look-alike


def escape_slack_url(url: str) -> str:
    """A URL for the URL part of `<url|label>`: no raw `& < > |` or whitespace."""
    url = "".join(url.split())
    for raw, encoded in (("<", "%3C"), (">", "%3E"), ("|", "%7C")):
        url = url.replace(raw, encoded)
    return url.replace("&", "&amp;")


def escape_discord(text: str, *, multiline: bool = False) -> str:
    """Untrusted text for Discord markdown (content, embed titles, descriptions, fields).

    Backslash-escapes what formats anywhere (`\\ * _ ~ \\` | [ ] <`), what formats at a
    line start (`# > - +` and `1.`), `(` right after `]`, and breaks mentions with a
    zero-width space (`@everyone`, `@here`, `<@id>`, `<@&id>`, `<#id>`, `</cmd:id>`).
    """
    text = _prepare(text, multiline)
    text = _DISCORD_ANYWHERE.sub(r"\\\1", text)
    text = _DISCORD_LINE_START.sub(r"\1\\\2", text)
    text = _DISCORD_NUMBERED.sub(r"\1\\.", text)
    text = _DISCORD_LINK_PAREN.sub(r"\\(", text)
    text = _DISCORD_MENTION.sub(lambda m: f"{m.group(1)}{m.group(2)}{ZWSP}", text)
    return _BROADCAST.sub(lambda m: f"@{ZWSP}{m.group(1)}", text)


def code_block(text: str, entities: bool = False) -> str:
    """Untrusted text shown verbatim in a ``` block: controls dropped, a ``` inside broken
    with a zero-width space so it cannot end the block; `entities`: `& < >` as Slack's."""
    text = strip_controls(text).strip("\n").replace("```", f"`{ZWSP}``")
    if entities:
        text = "".join(_SLACK_ENTITIES.get(ch, ch) for ch in text)
    return f"```\n{text}\n```"


def escape_discord_plain(text: str, *, multiline: bool = False) -> str:
    """Untrusted text for Discord places that show no markdown (embed footer, author name):
    nothing to backslash-escape, but mentions are still broken."""
    text = _prepare(text, multiline)
    text = re.sub(r"<([@#]&?)", lambda m: f"<{m.group(1)}{ZWSP}", text)
    return _BROADCAST.sub(lambda m: f"@{ZWSP}{m.group(1)}", text)
