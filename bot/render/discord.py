"""Neutral replies as Discord create-message bodies (plain dicts, no SDK).

Every body carries `allowed_mentions: {"parse": []}` and all outside text is escaped, so
nothing a paper or a user wrote can ping anyone or format our message. A field whose text
escapes to nothing is left out: Discord refuses an empty one (a footer `{"text": ""}`).
"""

from __future__ import annotations

from typing import Any

from bot.models import Paper
from bot.render import common
from bot.render.escape import code_block, escape_discord, escape_discord_plain
from bot.render.limits import (
    DISCORD_ACTION_ROWS,
    DISCORD_CONTENT,
    DISCORD_DESCRIPTION,
    DISCORD_EMBEDS_PER_MESSAGE,
    DISCORD_EMBEDS_TOTAL,
    DISCORD_FIELD_VALUE,
    DISCORD_FOOTER,
    DISCORD_TITLE,
    shorten,
)
from bot.render.neutral import Content, Digest, Help, Highlighted, Notice, SearchPage, TopicAlert

Embed = dict[str, Any]
Body = dict[str, Any]

COLOR = 0xFFB000
COMPACT_DESCRIPTION = 350
FULL_DESCRIPTION = 600
SNIPPET_LIMIT = 500
AUTHORS_LIMIT = 200
MAX_URL = 800  # longer URLs are not linked: they would crowd out the text
WARNING = "⚠️ "
# A digest's paper has a row of buttons of its own (Abstract, Similar to, More like this, Not
# for us): a message holds 5 rows, so 5 of its papers.
DIGEST_PAPERS_PER_MESSAGE = DISCORD_ACTION_ROWS


def render_discord(content: Content) -> list[Body]:
    """`content` as one or more Discord message bodies, each within Discord's limits."""
    if isinstance(content, Digest):
        return _digest(content)
    if isinstance(content, TopicAlert):
        return _alert(content)
    if isinstance(content, SearchPage):
        return _search(content)
    if isinstance(content, Help):
        return _help(content)
    return _notice(content)


def embed_length(embed: Embed) -> int:
    """What Discord counts against the 6000-character total of a message's embeds."""
    size = len(embed.get("title", "")) + len(embed.get("description", ""))
    size += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    size += len(embed.get("footer", {}).get("text", ""))
    return size + len(embed.get("author", {}).get("name", ""))


# --- building blocks --------------------------------------------------------------------


def _body(content: str, embeds: list[Embed] | None = None) -> Body:
    return {
        "content": shorten(content, DISCORD_CONTENT),
        "embeds": embeds or [],
        "allowed_mentions": {"parse": []},
    }


def _fit(text: str, limit: int) -> str:
    return common.fit(text, limit, escape_discord)


def _plain(text: str, limit: int) -> str:
    return common.fit(text, limit, escape_discord_plain)


def _bold(piece: str) -> str:
    return common.mark_segment(piece, "**", "**")


def _highlighted(text: Highlighted, limit: int) -> str:
    return common.fit_highlighted(text, limit, escape_discord, _bold)


def _url(url: str | None) -> str | None:
    return url if url and len(url) <= MAX_URL else None


def _link(url: str, label: str) -> str:
    """A masked link `[label](url)`; `label` comes escaped."""
    for raw, encoded in (("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E")):
        url = url.replace(raw, encoded)
    return f"[{label}]({url})"


def _paper_embed(title: str, paper: Paper, description: str, day: bool) -> Embed:
    """An embed for `paper` with an already escaped `title` and `description`."""
    embed: Embed = {"title": title, "color": COLOR}
    url = _url(common.paper_url(paper))
    if url:
        embed["url"] = url
    if description:
        embed["description"] = description
    fields = _fields(paper, day)
    if fields:
        embed["fields"] = fields
    authors = _plain(common.short_authors(paper.authors, AUTHORS_LIMIT), DISCORD_FOOTER)
    if authors:
        embed["footer"] = {"text": authors}
    thumbnail = _url(common.safe_url(paper.signals.thumbnail))
    if thumbnail:
        embed["thumbnail"] = {"url": thumbnail}
    return embed


def _fields(paper: Paper, day: bool) -> list[dict[str, Any]]:
    fields = []
    trended = common.trend_day(paper)
    if day and trended:
        fields.append(_field("Trended", common.format_day(trended)))
    if common.upvote_text(paper):
        fields.append(_field("Upvotes", common.upvote_text(paper)))
    code = _url(common.code_url(paper))
    if code:
        value = _link(code, _fit(common.code_label(code), 100))
        if len(value) <= DISCORD_FIELD_VALUE:
            fields.append(_field("Code", value))
    return fields


def _field(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value, "inline": True}


def _pack(embeds: list[Embed], most: int = DISCORD_EMBEDS_PER_MESSAGE) -> list[list[Embed]]:
    """Embeds in groups of at most `most` (10) whose lengths add up to at most 6000."""
    groups: list[list[Embed]] = [[]]
    size = 0
    for embed in embeds:
        length = embed_length(embed)
        group = groups[-1]
        if group and (len(group) >= most or size + length > DISCORD_EMBEDS_TOTAL):
            groups.append([])
            size = 0
        groups[-1].append(embed)
        size += length
    return groups


def _messages(
    head: str, embeds: list[Embed], tail: str, most: int = DISCORD_EMBEDS_PER_MESSAGE
) -> list[Body]:
    """`head` as the first message's content, `tail` as the last one's; at most `most`
    embeds a message."""
    groups = _pack(embeds, most)
    bodies = [_body("", group) for group in groups]
    bodies[0]["content"] = head
    last = bodies[-1]
    last["content"] = "\n".join(t for t in (last["content"], tail) if t)
    for body in bodies:
        body["content"] = shorten(body["content"], DISCORD_CONTENT)
    return bodies


def _hint() -> str:
    """The search/help hint, as subtext with the commands in code."""
    return (
        f"-# Search: `{common.SEARCH_HINT}` · Alerts: `{common.SUBSCRIBE_HINT}`"
        f" · Help: `{common.HELP_HINT}`"
    )


# --- digest -----------------------------------------------------------------------------


def _digest(digest: Digest) -> list[Body]:
    head = f"**{common.digest_heading(digest)}**"
    topic = _fit(digest.topic or "", 200)
    if topic:
        head += f" · topic: {topic}"
    note = _fit(digest.note or "", 1000)
    if note:
        head += f"\n{note}"
    if not digest.papers:
        head += f"\n{common.EMPTY_DIGEST}"
    limit = FULL_DESCRIPTION if digest.style == "full" else COMPACT_DESCRIPTION
    embeds = [
        _paper_embed(
            _title(number, paper.title),
            paper,
            _description(paper, digest, limit, digest.reason(number - 1)),
            False,
        )
        for number, paper in enumerate(digest.papers, start=1)
    ]
    return _messages(head, embeds, _hint(), DIGEST_PAPERS_PER_MESSAGE)


def _alert(alert: TopicAlert) -> list[Body]:
    """One embed per paper, its topic in the footer; the "…and N more" lines at the end."""
    embeds = []
    more = []
    for group in alert.groups:
        topic = _plain(group.topic, DISCORD_FOOTER - len("Topic: "))
        for number, paper in enumerate(group.papers, start=1):
            embed = _compact_embed(number, paper, day=False)
            if topic:
                embed["footer"] = {"text": f"Topic: {topic}"}
            else:
                embed.pop("footer", None)
            embeds.append(embed)
        if group.more:
            more += [text for text in [_fit(common.more_matches(group), 300)] if text]
    embeds += _updates(alert)
    tail = "\n".join([*more, f"-# {_fit(common.ALERT_FOOTER, 300)}"])
    return _messages(f"**{common.alert_heading(alert)}**", embeds, tail)


def _updates(alert: TopicAlert) -> list[Embed]:
    """ "Your reading list": a line per change, "• [title](url) — v2 posted"."""
    lines = []
    for update in alert.updates:
        title = _fit(update.paper.title, 200) or common.UNTITLED
        url = _url(common.paper_url(update.paper))
        change = _fit(common.update_text(update), 300)
        lines.append(f"• {_link(url, title) if url else title} — {change}")
    if alert.more_updates:
        lines.append(_fit(common.more_updates(alert), 300))
    if not lines:
        return []
    return [
        {"title": common.READING_LIST, "description": text, "color": COLOR}
        for text in common.split_text("\n".join(lines), DISCORD_DESCRIPTION)
    ]


def _compact_embed(number: int, paper: Paper, day: bool) -> Embed:
    details = common.detail_lines(paper, "compact")
    description = _fit(details[0], COMPACT_DESCRIPTION) if details else ""
    return _paper_embed(_title(number, paper.title), paper, description, day)


def _title(number: int, title: str) -> str:
    prefix = f"{number}. "
    return prefix + (_fit(title, DISCORD_TITLE - len(prefix)) or common.UNTITLED)


def _description(paper: Paper, digest: Digest, limit: int, why: str | None = None) -> str:
    """The summary lines; first, in italics, why the channel's taste lifted the paper."""
    why_line = _fit(common.why_text(why), common.WHY_LIMIT) if why else ""
    lines = [f"*{why_line}*"] if why_line else []
    limit = min(limit, DISCORD_DESCRIPTION) - sum(len(line) + 2 for line in lines)
    details = common.detail_lines(paper, digest.style)
    if details:
        each = max(0, (limit - 2 * (len(details) - 1)) // len(details))
        lines += [text for text in (_fit(text, each) for text in details) if text]
    return "\n\n".join(lines)


# --- search -----------------------------------------------------------------------------


def _search(page: SearchPage) -> list[Body]:
    query = common.quoted(_fit(page.query, 200))
    note = _fit(page.note or "", 1000)
    note = f"\n{note}" if note else ""
    if not page.hits:
        heading = f"No results for {query}."
        return [_body(f"**{heading}**{note}\n{common.no_results_hint(page)}")]
    head = f"**{common.results_heading(page, query)}**{note}"
    embeds = []
    for number, hit in enumerate(page.hits, start=page.offset + 1):
        prefix = f"{number}. "
        title = prefix + (_highlighted(hit.title, DISCORD_TITLE - len(prefix)) or common.UNTITLED)
        snippet = _highlighted(hit.snippet, SNIPPET_LIMIT)
        embeds.append(_paper_embed(title, hit.paper, snippet, day=True))
    tail = common.more_hint(page) if page.has_more else ""
    return _messages(head, embeds, tail)


# --- help and notices -------------------------------------------------------------------


def _help(help_: Help) -> list[Body]:
    error = _fit(help_.error or "", 1900)
    content = f"{WARNING}{error}" if error else ""
    lines = [f"{_code(t.usage)} — {_fit(t.summary, 500)}" for t in help_.topics]
    description = ""
    for line in lines:
        if len(description) + len(line) + 1 > DISCORD_DESCRIPTION:
            break
        description = f"{description}\n{line}" if description else line
    embed: Embed = {"title": _fit(help_.title, DISCORD_TITLE) or common.UNTITLED, "color": COLOR}
    if description:
        embed["description"] = description
    footer = _plain(help_.footer, DISCORD_FOOTER)
    if footer:
        embed["footer"] = {"text": footer}
    return [_body(content, [embed])]


def _code(text: str) -> str:
    """Inline code, where backslash escapes do not work: backticks are swapped instead."""
    return "`" + _plain(text, 200).replace("`", "\u02cb") + "`"  # MODIFIER LETTER GRAVE


def _notice(notice: Notice) -> list[Body]:
    prefix = WARNING if notice.is_error else ""
    title = _fit(notice.title or "", 200)
    title = f"{prefix}**{title}**" if title else ""
    text = escape_discord(notice.text, multiline=True)
    if not text and not title:
        text = common.NO_TEXT
    if not title:
        text = prefix + text
    code = code_block(notice.code) if notice.code else ""
    full = "\n".join(part for part in (title, text, code) if part)
    bodies = [_body(piece) for piece in common.split_text(full, DISCORD_CONTENT)]
    if notice.papers:
        embeds = [
            _compact_embed(number, paper, day=True)
            for number, paper in enumerate(notice.papers, start=1)
        ]
        first, *rest = _pack(embeds)
        bodies[-1]["embeds"] = first
        bodies += [_body("", group) for group in rest]
    return bodies
