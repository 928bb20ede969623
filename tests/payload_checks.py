"""Checks that a Slack or Discord message body is one the platform would accept and that
nothing in it can ping or inject, plus sample content to render.

`check_slack_message` / `check_discord_message` raise AssertionError naming the offending
part (e.g. "blocks[3] (section).text"), its size and the limit, with a preview of the text.
Reused by the renderer tests and the Slack / Discord adapter tests.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from bot.models import Paper, Signals, TrendingEntry
from bot.render.neutral import Digest, Highlighted, Hit, SearchPage
from bot.search.matcher import matches
from bot.search.query import parse
from bot.search.service import highlighter_for
from tests.conftest import seed_observations

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"  # what every PNG file starts with

# --- Slack ------------------------------------------------------------------------------

SLACK_MAX_BLOCKS = 50
SLACK_SECTION_TEXT = 3000
SLACK_FIELDS = 10
SLACK_FIELD_TEXT = 2000
SLACK_HEADER_TEXT = 150
SLACK_CONTEXT_ELEMENTS = 10
SLACK_TEXT_OBJECT = 3000
SLACK_MESSAGE_TEXT = 40_000
SLACK_BUTTON_TEXT = 75
SLACK_BUTTON_VALUE = 2000
SLACK_ACTIONS_ELEMENTS = 25
SLACK_ID = 255

# In mrkdwn every "<...>" is a control sequence. We only ever emit links.
_SLACK_CONTROL = re.compile(r"<([^<>]*)>")
_SLACK_OUR_LINK = re.compile(r"^(https?://|mailto:)[^\s|<>]+(\|[^|<>]*)?$")
_SLACK_USER_OR_CHANNEL = re.compile(r"^[@#][UWC][A-Z0-9]+(\|[^|<>]*)?$")
_BROADCASTS = ("<!channel", "<!here", "<!everyone", "<!subteam")


def _preview(text: Any, size: int = 120) -> str:
    shown = repr(text)
    return shown if len(shown) <= size else shown[: size - 1] + "…"


def _require(condition: bool, where: str, problem: str, value: Any = None) -> None:
    if not condition:
        detail = f": {_preview(value)}" if value is not None else ""
        raise AssertionError(f"{where}: {problem}{detail}")


def _require_len(text: Any, limit: int, where: str, allow_empty: bool = False) -> None:
    _require(isinstance(text, str), where, f"expected a string, got {type(text).__name__}", text)
    _require(allow_empty or text.strip() != "", where, "is empty", text)
    _require(len(text) <= limit, where, f"{len(text)} characters > limit {limit}", text)


def check_slack_mrkdwn(text: str, where: str, allow_mentions: bool = False) -> None:
    """No broadcast, user, channel or other control sequence except well-formed links,
    and no stray angle brackets (untrusted `<` and `>` must arrive as &lt; &gt;).
    `allow_mentions` lets `<@U123>` and `<#C123>` through (never broadcasts)."""
    for broadcast in _BROADCASTS:
        _require(broadcast not in text, where, f"contains {broadcast!r}", text)
    for match in _SLACK_CONTROL.finditer(text):
        inner = match.group(1)
        _require(
            bool(_SLACK_OUR_LINK.match(inner))
            or (allow_mentions and bool(_SLACK_USER_OR_CHANNEL.match(inner))),
            where,
            f"control sequence that is not a plain link: {match.group(0)[:80]!r}",
            text,
        )
    rest = _SLACK_CONTROL.sub("", text)
    _require("<" not in rest and ">" not in rest, where, "stray unescaped < or >", text)
    bare_ampersand = re.search(r"&(?!amp;|lt;|gt;)", text)
    _require(bare_ampersand is None, where, "unescaped & (or unknown entity)", text)


def _check_text_object(
    obj: Any, where: str, limit: int = SLACK_TEXT_OBJECT, allow_mentions: bool = False
) -> None:
    _require(isinstance(obj, dict), where, "text object must be a dict", obj)
    _require(obj.get("type") in ("plain_text", "mrkdwn"), where, "bad text type", obj.get("type"))
    _require_len(obj.get("text"), limit, f"{where}.text")
    if obj["type"] == "mrkdwn":
        check_slack_mrkdwn(obj["text"], f"{where}.text", allow_mentions)
    for broadcast in _BROADCASTS:
        _require(broadcast not in obj["text"], f"{where}.text", f"contains {broadcast!r}")


def _check_section(block: dict[str, Any], where: str, mentions: bool) -> None:
    _require("text" in block or "fields" in block, where, "section needs text or fields")
    if "text" in block:
        _check_text_object(block["text"], f"{where}.text", SLACK_SECTION_TEXT, mentions)
    fields = block.get("fields", [])
    _require(len(fields) <= SLACK_FIELDS, where, f"{len(fields)} fields > {SLACK_FIELDS}")
    for number, field in enumerate(fields):
        _check_text_object(field, f"{where}.fields[{number}]", SLACK_FIELD_TEXT, mentions)


def _check_header(block: dict[str, Any], where: str, mentions: bool) -> None:
    text = block.get("text", {})
    _require(text.get("type") == "plain_text", where, "header text must be plain_text", text)
    _check_text_object(text, f"{where}.text", SLACK_HEADER_TEXT)


def _check_context(block: dict[str, Any], where: str, mentions: bool) -> None:
    elements = block.get("elements", [])
    _require(
        0 < len(elements) <= SLACK_CONTEXT_ELEMENTS,
        where,
        f"{len(elements)} elements, need 1 to {SLACK_CONTEXT_ELEMENTS}",
    )
    for number, element in enumerate(elements):
        if element.get("type") in ("plain_text", "mrkdwn"):
            _check_text_object(element, f"{where}.elements[{number}]", allow_mentions=mentions)


def _check_actions(block: dict[str, Any], where: str, mentions: bool) -> None:
    elements = block.get("elements", [])
    _require(0 < len(elements) <= SLACK_ACTIONS_ELEMENTS, where, f"{len(elements)} elements")
    for number, element in enumerate(elements):
        if element.get("type") == "button":
            _check_button(element, f"{where}.elements[{number}]")


def _check_button(button: dict[str, Any], where: str) -> None:
    _check_text_object(button["text"], where, SLACK_BUTTON_TEXT)
    _require_len(button.get("value", ""), SLACK_BUTTON_VALUE, f"{where}.value", allow_empty=True)
    _require_len(button.get("action_id", ""), SLACK_ID, f"{where}.action_id")


_SLACK_BLOCK_CHECKS = {
    "section": _check_section,
    "header": _check_header,
    "context": _check_context,
    "actions": _check_actions,
}


def check_slack_message(body: dict[str, Any], *, allow_mentions: bool = False) -> None:
    """Assert `body` is a chat.postMessage / response_url body Slack would accept as is,
    and that it cannot ping (`allow_mentions=True` lets `<@U123>` / `<#C123>` through)."""
    _require(isinstance(body, dict), "body", "must be a dict", body)
    json.dumps(body)  # plain JSON only: no SDK objects, no sets
    _require(not body.get("link_names"), "body", "must not set link_names")
    _require(body.get("parse") in (None, "none"), "body", "must not set parse", body.get("parse"))
    _require_len(body.get("text"), SLACK_MESSAGE_TEXT, "body.text (notification fallback)")
    check_slack_mrkdwn(body["text"], "body.text", allow_mentions)
    blocks = body.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        raise AssertionError(f"body.blocks: must be a non-empty list: {_preview(blocks)}")
    _require(
        len(blocks) <= SLACK_MAX_BLOCKS,
        "body.blocks",
        f"{len(blocks)} blocks > limit {SLACK_MAX_BLOCKS}",
    )
    for number, block in enumerate(blocks):
        kind = block.get("type") if isinstance(block, dict) else None
        where = f"blocks[{number}] ({kind})"
        # Our own checks first: their messages name the exact part and its size.
        if "block_id" in block:
            _require_len(block["block_id"], SLACK_ID, f"{where}.block_id")
        check = _SLACK_BLOCK_CHECKS.get(kind or "")
        if check:
            check(block, where, allow_mentions)
        parsed = Block.parse(block)
        _require(parsed is not None, where, "unknown block type", block)
        try:
            parsed.validate_json()  # type: ignore[union-attr]
        except SlackObjectFormationError as exc:
            problem = f"{where}: slack_sdk rejects it: {exc}: {_preview(block)}"
            raise AssertionError(problem) from exc


def slack_texts(body: dict[str, Any]) -> list[str]:
    """Every string in a Slack body, for assertions about what shows."""
    return list(_strings(body))


# --- Discord ----------------------------------------------------------------------------

DISCORD_CONTENT = 2000
DISCORD_EMBEDS = 10
DISCORD_EMBEDS_TOTAL = 6000
DISCORD_TITLE = 256
DISCORD_DESCRIPTION = 4096
DISCORD_FIELDS = 25
DISCORD_FIELD_NAME = 256
DISCORD_FIELD_VALUE = 1024
DISCORD_FOOTER = 2048
DISCORD_AUTHOR = 256
DISCORD_ACTION_ROWS = 5
DISCORD_CUSTOM_ID = 100
DISCORD_BUTTON_LABEL = 80

_DISCORD_MENTION = re.compile(r"(?<!\\)<(@!?|@&|#)\d+>")
_DISCORD_BROADCAST = re.compile(r"@(everyone|here)")


def _check_url(url: Any, where: str) -> None:
    valid = isinstance(url, str) and re.match(r"^https?://\S+$", url) is not None
    _require(valid, where, "must be an http(s) URL", url)


def _check_discord_text(text: str, where: str, allow_mentions: bool) -> None:
    match = _DISCORD_BROADCAST.search(text)
    _require(match is None, where, "contains an unbroken @everyone/@here", text)
    if not allow_mentions:
        mention = _DISCORD_MENTION.search(text)
        _require(mention is None, where, "contains a user/role/channel mention", text)


def discord_embed_length(embed: dict[str, Any]) -> int:
    """Characters Discord counts towards the 6000 per message."""
    size = len(embed.get("title", "")) + len(embed.get("description", ""))
    size += sum(len(f.get("name", "")) + len(f.get("value", "")) for f in embed.get("fields", []))
    size += len(embed.get("footer", {}).get("text", ""))
    return size + len(embed.get("author", {}).get("name", ""))


def _check_embed(embed: dict[str, Any], where: str, allow_mentions: bool) -> None:
    _require(isinstance(embed, dict), where, "must be a dict", embed)
    limits = {"title": DISCORD_TITLE, "description": DISCORD_DESCRIPTION}
    for key, limit in limits.items():
        if key in embed:
            _require_len(embed[key], limit, f"{where}.{key}")
            _check_discord_text(embed[key], f"{where}.{key}", allow_mentions)
    fields = embed.get("fields", [])
    _require(len(fields) <= DISCORD_FIELDS, where, f"{len(fields)} fields > {DISCORD_FIELDS}")
    for number, field in enumerate(fields):
        spot = f"{where}.fields[{number}]"
        _require_len(field.get("name"), DISCORD_FIELD_NAME, f"{spot}.name")
        _require_len(field.get("value"), DISCORD_FIELD_VALUE, f"{spot}.value")
        _require(isinstance(field.get("inline", False), bool), spot, "inline must be a bool")
        _check_discord_text(field["name"] + " " + field["value"], spot, allow_mentions)
    for key, limit in (("footer", DISCORD_FOOTER), ("author", DISCORD_AUTHOR)):
        if key in embed:
            text_key = "text" if key == "footer" else "name"
            _require_len(embed[key].get(text_key), limit, f"{where}.{key}.{text_key}")
            _check_discord_text(embed[key][text_key], f"{where}.{key}", allow_mentions)
    if "url" in embed:
        _check_url(embed["url"], f"{where}.url")
    for key in ("thumbnail", "image"):
        if key in embed:
            _check_url(embed[key].get("url"), f"{where}.{key}.url")
    if "color" in embed:
        color = embed["color"]
        _require(isinstance(color, int) and 0 <= color <= 0xFFFFFF, where, "bad color", color)
    _require(
        any(k in embed for k in ("title", "description", "fields", "footer", "author", "image")),
        where,
        "embed shows nothing",
        embed,
    )


def check_discord_message(body: dict[str, Any], *, allow_mentions: bool = False) -> None:
    """Assert `body` is a create-message body Discord would accept and that cannot ping.

    `allow_mentions=True` lets raw `<@id>` syntax through (never @everyone / @here).
    """
    _require(isinstance(body, dict), "body", "must be a dict", body)
    json.dumps(body)
    _require(
        body.get("allowed_mentions") == {"parse": []},
        "body.allowed_mentions",
        "must be {'parse': []}",
        body.get("allowed_mentions"),
    )
    content = body.get("content", "")
    _require_len(content, DISCORD_CONTENT, "body.content", allow_empty=True)
    _check_discord_text(content, "body.content", allow_mentions)
    embeds = body.get("embeds", [])
    _require(isinstance(embeds, list), "body.embeds", "must be a list", embeds)
    _require(bool(content.strip()) or bool(embeds), "body", "empty message (no content, no embeds)")
    _require(len(embeds) <= DISCORD_EMBEDS, "body.embeds", f"{len(embeds)} > {DISCORD_EMBEDS}")
    for number, embed in enumerate(embeds):
        _check_embed(embed, f"body.embeds[{number}]", allow_mentions)
    total = sum(discord_embed_length(e) for e in embeds)
    _require(
        total <= DISCORD_EMBEDS_TOTAL,
        "body.embeds",
        f"{total} characters in all embeds > limit {DISCORD_EMBEDS_TOTAL}",
    )
    check_discord_components(body.get("components") or [])


def check_discord_components(rows: list[dict[str, Any]]) -> None:
    """At most 5 action rows of at most 5 buttons, each with a label of at most 80
    characters and a custom id of at most 100, unique in the message."""
    _require(len(rows) <= DISCORD_ACTION_ROWS, "body.components", f"{len(rows)} rows > 5")
    seen: set[str] = set()
    for number, row in enumerate(rows):
        where = f"body.components[{number}]"
        buttons = row.get("components") or []
        _require(row.get("type") == 1 and 0 < len(buttons) <= 5, where, "not a row of 1-5", row)
        for button in buttons:
            custom_id = button.get("custom_id", "")
            _require_len(custom_id, DISCORD_CUSTOM_ID, f"{where}.custom_id")
            _require_len(button.get("label", ""), DISCORD_BUTTON_LABEL, f"{where}.label")
            _require(custom_id not in seen, where, "a custom id used twice", custom_id)
            seen.add(custom_id)


def discord_texts(body: dict[str, Any]) -> list[str]:
    """Every string in a Discord body (content, titles, descriptions, fields, footers)."""
    return list(_strings(body))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# --- sample content ---------------------------------------------------------------------

HOSTILE_TITLE = "<!channel> @everyone <script>alert(1)</script> *bold* _x_ [a](http://evil)"
SEARCH_QUERIES = (
    "diffusion",
    "language models",
    "reinforcement learning",
    "video",
    "agent*",
    "benchmark evaluation",
    "attention",
)


def seed_papers_by_day() -> dict[date, list[Paper]]:
    """The bundled seed pages as papers, grouped by trending day in rank order."""
    by_day: dict[date, list[Paper]] = defaultdict(list)
    for obs in seed_observations():
        assert obs.day is not None and obs.rank is not None
        entry = TrendingEntry(obs.day, obs.source, obs.rank)
        by_day[obs.day].append(replace(obs.to_paper(), trending=(entry,)))
    return dict(by_day)


def seed_digests() -> list[Digest]:
    """Every seed day's digest, in both styles."""
    return [
        Digest(day, tuple(papers), style=style)
        for day, papers in sorted(seed_papers_by_day().items())
        for style in ("full", "compact")
    ]


def seed_search_pages(page_size: int = 5) -> list[SearchPage]:
    """Pages of in-memory search results over the seed papers, highlighted as the search
    service does it, for several queries and offsets."""
    papers = [p for day in seed_papers_by_day().values() for p in day]
    pages = []
    for text in SEARCH_QUERIES:
        query = parse(text)
        highlighter = highlighter_for(query)
        found = [p for p in papers if matches(query, p)]
        hits = [
            Hit(p, 1.0, highlighter.whole(p.title), highlighter.snippet(p.abstract, 300))
            for p in found
        ]
        for offset in range(0, max(len(hits), 1), page_size):
            window = tuple(hits[offset : offset + page_size])
            pages.append(
                SearchPage(text, window, offset, has_more=offset + len(window) < len(hits))
            )
    return pages


def hostile_paper() -> Paper:
    """Every field that reaches a message, written to ping, inject and format."""
    return Paper(
        id="2601.00001",
        arxiv_id="2601.00001",
        title=HOSTILE_TITLE,
        abstract="@here see <@U123> and <#C1> & <@&42>. *Really* ~struck~ `code` > quote.",
        authors=("<!here> Mallory", "@everyone Eve", "**Trent**"),
        signals=Signals(
            upvotes=42,
            github_repo="https://github.com/evil/repo|<!channel>",
            ai_summary="Summary with <!everyone> and @here and [x](http://evil)",
        ),
        trending=(TrendingEntry(date(2026, 5, 9), "hf", 1, 42),),
    )


def huge_paper() -> Paper:
    """A 5,000-character title, 300 authors and no abstract."""
    title = " ".join(["Supercalifragilistic"] * 240)[:5000]
    return Paper(
        id="2601.00002",
        arxiv_id="2601.00002",
        title=title,
        abstract="",
        authors=tuple(f"Author Number{i} Person" for i in range(300)),
        signals=Signals(upvotes=7, github_repo="https://github.com/big/repo"),
    )


def big_digest(count: int = 120, style: str = "full") -> Digest:
    """`count` papers taken round-robin from the seeds, each with every signal set."""
    seeds = [p for day in seed_papers_by_day().values() for p in day]
    papers = tuple(
        replace(
            seeds[i % len(seeds)],
            id=f"2605.{i:05d}",
            arxiv_id=f"2605.{i:05d}",
            authors=("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
            signals=Signals(
                upvotes=i,
                github_repo=f"https://github.com/org/repo{i}",
                ai_summary="A short summary of what the paper does and why it matters.",
                thumbnail=f"https://cdn.example.org/thumb/{i}.png",
            ),
        )
        for i in range(count)
    )
    return Digest(date(2026, 5, 9), papers, style="full" if style == "full" else "compact")


def edge_highlights(text: str) -> Highlighted:
    """Spans at both edges, overlapping, touching, reversed and out of range."""
    n = len(text)
    return Highlighted(text, ((0, 3), (2, 8), (8, 12), (n - 4, n + 10), (n + 5, n + 9), (7, 5)))
