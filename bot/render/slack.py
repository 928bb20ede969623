"""Neutral replies as Slack message bodies (Block Kit as plain dicts, no SDK).

Each body is what `chat.postMessage` or a `response_url` takes, minus `channel`. All text
from papers or users is escaped; mrkdwn objects are `verbatim` so Slack does not linkify
bare channel names or mentions in them. We never set `link_names` or `parse`. A part
whose text escapes to nothing is left out: Slack refuses an empty text or context.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.models import Paper
from bot.render import common
from bot.render.escape import (
    code_block,
    escape_slack,
    escape_slack_link_label,
    escape_slack_url,
)
from bot.render.limits import (
    SLACK_BUTTON_VALUE,
    SLACK_CONTEXT_TEXT,
    SLACK_FALLBACK_TEXT,
    SLACK_HEADER_TEXT,
    SLACK_MAX_BLOCKS,
    SLACK_SECTION_TEXT,
    shorten,
)
from bot.render.neutral import (
    Content,
    Digest,
    Help,
    Highlighted,
    Notice,
    SearchPage,
    TopicAlert,
)
from bot.render.slack_buttons import (
    ACTION_SAVE,
    button,
    choices_block,
    page_buttons,
    paper_buttons,
    search_buttons,
)

Block = dict[str, Any]
Body = dict[str, Any]

TITLE_LIMIT = 500
FACTS_LIMIT = 1200
SNIPPET_LIMIT = 700
MAX_URL = 1000  # longer URLs are not linked: they would crowd out the text
WARNING = ":warning: "


# Sent with every chat.postMessage besides the body: a digest links many papers, and a
# preview of each would bury it.
POST_OPTIONS: dict[str, Any] = {"unfurl_links": False, "unfurl_media": False}


def render_slack(content: Content, *, interactive: bool = False) -> list[Body]:
    """`content` as one or more Slack message bodies, each within Block Kit limits. With
    `interactive`, papers get buttons (`paper_buttons`, a search's a "Save" beside each),
    search results "Share in channel" and "Next", a reading list's page "Previous"/"Next",
    a notice its choices (e.g. "Forget me", "Cancel")."""
    if isinstance(content, Digest):
        return _digest(content, interactive)
    if isinstance(content, TopicAlert):
        return _alert(content, interactive)
    if isinstance(content, SearchPage):
        return _search(content, interactive)
    if isinstance(content, Help):
        return _help(content)
    return _notice(content, interactive)


def render_slack_post(content: Content) -> tuple[list[Body], list[Body]]:
    """`content` as posted to a channel or a DM: its messages, buttons included, and the
    replies that go in the first message's thread (a digest's abstracts). The Slack adapter
    posts these and `paperwire digest --format slack --json` prints them."""
    thread = render_slack_abstracts(content) if isinstance(content, Digest) else []
    return render_slack(content, interactive=True), thread


# --- blocks -----------------------------------------------------------------------------


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(shorten(text, SLACK_SECTION_TEXT))}


def _context(*texts: str) -> Block:
    elements = [_mrkdwn(shorten(t, SLACK_CONTEXT_TEXT)) for t in texts if t]
    return {"type": "context", "elements": elements}


def _header(text: str) -> Block:
    plain = {"type": "plain_text", "text": shorten(text, SLACK_HEADER_TEXT), "emoji": True}
    return {"type": "header", "text": plain}


def _link(url: str | None, label: str) -> str:
    """`<url|label>` with `label` already escaped for a link; just `label` without a URL."""
    if not url or len(url) > MAX_URL:
        return label
    return f"<{escape_slack_url(url)}|{label}>"


def _fit(text: str, limit: int) -> str:
    return common.fit(text, limit, escape_slack)


def _bold(piece: str) -> str:
    return common.mark_segment(piece, "*", "*")


def _highlighted(text: Highlighted, limit: int, escape: Callable[[str], str] = escape_slack) -> str:
    return common.fit_highlighted(common.widen_to_words(text), limit, escape, _bold)


def _bodies(
    head: list[Block],
    units: list[list[Block]],
    tail: list[Block],
    fallback: str,
    divider: bool = True,
) -> list[Body]:
    """Messages of at most 50 blocks: `head` opens the first, `tail` closes the last, a
    divider separates units within a message, and a unit is never split. `fallback` is the
    raw notification text."""
    room = SLACK_MAX_BLOCKS - len(tail)
    pages: list[list[Block]] = [list(head)]
    on_page = 0  # units on the last page
    for unit in units:
        needed = len(unit) + (1 if on_page and divider else 0)
        if pages[-1] and len(pages[-1]) + needed > room:
            pages.append([])
            on_page = 0
        if on_page and divider:
            pages[-1].append({"type": "divider"})
        pages[-1].extend(unit)
        on_page += 1
    pages[-1].extend(tail)
    total = len(pages)
    bodies = []
    for number, blocks in enumerate(pages, start=1):
        text = fallback if total == 1 else f"{fallback} ({number}/{total})"
        fitted = _fit(text, SLACK_FALLBACK_TEXT) or common.NO_TEXT
        bodies.append({"text": fitted, "blocks": blocks})
    return bodies


# --- digest -----------------------------------------------------------------------------


def _digest(digest: Digest, interactive: bool = False) -> list[Body]:
    heading = common.digest_heading(digest)
    head = [_header(heading)]
    context = []
    topic = _fit(digest.topic or "", 200)
    if topic:
        context.append(f"Topic: *{topic}*")
    note = _fit(digest.note or "", 1000)
    if note:
        context.append(note)
    if context:
        head.append(_context(*context))
    units = [
        [
            _paper_section(number, paper, digest.style, why=digest.reason(number - 1)),
            *paper_buttons(paper, interactive, votes=True),
        ]
        for number, paper in enumerate(digest.papers, start=1)
    ]
    if not units:
        head.append(_section(common.EMPTY_DIGEST))
    tail = [_context(_fit(common.FOOTER, 500))]
    fallback = heading + (f" · topic: {digest.topic}" if digest.topic else "")
    return _bodies(head, units, tail, fallback)


def _alert(alert: TopicAlert, interactive: bool) -> list[Body]:
    heading = common.alert_heading(alert)
    units = []
    for group in alert.groups:
        blocks = [_section(f"*Topic {common.quoted(_fit(group.topic, 200))}*")]
        for number, paper in enumerate(group.papers, start=1):
            blocks.append(_paper_section(number, paper, "compact"))
            blocks += paper_buttons(paper, interactive)
        more = _fit(common.more_matches(group), 500) if group.more else ""
        if more:
            blocks.append(_context(more))
        units.append(blocks)
    units += _updates(alert)
    tail = [_context(_fit(common.ALERT_FOOTER, 500))]
    return _bodies([_header(heading)], units, tail, heading)


def _updates(alert: TopicAlert) -> list[list[Block]]:
    """ "Your reading list": a line per change, "• <url|title> — v2 posted"."""
    if not alert.updates:
        return []
    lines = [f"*{common.READING_LIST}*"]
    for update in alert.updates:
        title = common.fit(update.paper.title, 200, escape_slack_link_label) or common.UNTITLED
        lines.append(
            f"• {_link(common.paper_url(update.paper), title)}"
            f" — {_fit(common.update_text(update), 300)}"
        )
    if alert.more_updates:
        lines.append(_fit(common.more_updates(alert), 300))
    return [[_section(text) for text in common.split_text("\n".join(lines), SLACK_SECTION_TEXT)]]


def _paper_section(
    number: int, paper: Paper, style: str, day: bool = False, why: str | None = None
) -> Block:
    title = common.fit(paper.title, TITLE_LIMIT, escape_slack_link_label) or common.UNTITLED
    head = [f"*{number}. {_link(common.paper_url(paper), title)}*"]
    facts = _facts(paper, day=day)
    if facts:
        head.append(facts)
    why_line = _fit(common.why_text(why), common.WHY_LIMIT) if why else ""
    if why_line:
        head.append(f"_{why_line}_")
    used = len("\n".join(head))
    return _section("\n".join(head + _details(paper, style, used)))


def _details(paper: Paper, style: str, used: int) -> list[str]:
    """The summary lines, each on its own line, fitted into what the section has left."""
    details = common.detail_lines(paper, style)
    if not details:
        return []
    each = max(0, (SLACK_SECTION_TEXT - used) // len(details) - 1)
    return [text for text in (_fit(text, each) for text in details) if text]


def _facts(paper: Paper, day: bool) -> str:
    """e.g. "A. Smith, B. Jones et al. · ▲ 42 · <https://github.com/a/b|code>"."""
    facts = []
    trended = common.trend_day(paper)
    if day and trended:
        facts.append(f"Trended {common.format_day(trended)}")
    authors = _fit(common.short_authors(paper.authors), 400)
    if authors:
        facts.append(authors)
    if common.upvote_text(paper):
        facts.append(common.upvote_text(paper))
    code = common.code_url(paper)
    if code and len(code) <= MAX_URL:
        facts.append(_link(code, "code"))
    return " · ".join(facts)


# --- search -----------------------------------------------------------------------------


def _search(page: SearchPage, interactive: bool = False) -> list[Body]:
    query = common.quoted(_fit(page.query, 200))
    note_text = _fit(page.note or "", 1000)
    note = [_context(note_text)] if note_text else []
    if not page.hits:
        heading = f"No results for {query}."
        blocks = [_section(heading), *note, _context(common.no_results_hint(page))]
        return _bodies(blocks, [], [], _raw_heading(page))
    heading = common.results_heading(page, query)
    head = [_section(f"*{heading}*"), *note]
    units = [
        _hit_blocks(number, hit.paper, hit.title, hit.snippet, interactive)
        for number, hit in enumerate(page.hits, start=page.offset + 1)
    ]
    tail = [_context(common.more_hint(page))] if page.has_more else []
    buttons = search_buttons(page) if interactive else None
    if buttons and buttons["elements"]:
        tail.append(buttons)
    return _bodies(head, units, tail, _raw_heading(page))


def _hit_blocks(
    number: int, paper: Paper, title: Highlighted, snippet: Highlighted, interactive: bool = False
) -> list[Block]:
    label = _highlighted(title, TITLE_LIMIT, escape_slack_link_label) or common.UNTITLED
    text = f"{number}. {_link(common.paper_url(paper), label)}"
    excerpt = _highlighted(snippet, SNIPPET_LIMIT)
    if excerpt:
        text += f"\n{excerpt}"
    section = _section(text)
    if interactive and len(paper.id) <= SLACK_BUTTON_VALUE:
        # Beside the result, not a block of its own: a page of 20 stays one message.
        section["accessory"] = button("Save", ACTION_SAVE, paper.id)
    blocks = [section]
    facts = _facts(paper, day=True)
    if facts:
        blocks.append(_context(facts))
    return blocks


def _raw_heading(page: SearchPage) -> str:
    return common.results_heading(page, common.quoted(shorten(page.query, 200)))


# --- help and notices -------------------------------------------------------------------


def _help(help_: Help) -> list[Body]:
    head = []
    error = _fit(help_.error or "", 2000)
    if error:
        head.append(_section(WARNING + error))
    head.append(_section(f"*{_fit(help_.title, 200) or common.UNTITLED}*"))
    lines = [f"`{_fit(topic.usage, 200)}`  {_fit(topic.summary, 500)}" for topic in help_.topics]
    units = [[_section(text)] for text in _group_lines(lines, SLACK_SECTION_TEXT)]
    footer = _fit(help_.footer, 2000)
    tail = [_context(footer)] if footer else []
    return _bodies(head, units, tail, help_.error or help_.title, divider=False)


def _group_lines(lines: list[str], limit: int) -> list[str]:
    """Lines joined into as few texts of at most `limit` characters as possible."""
    groups: list[str] = []
    for line in lines:
        if groups and len(groups[-1]) + 1 + len(line) <= limit:
            groups[-1] += "\n" + line
        else:
            groups.append(line)
    return groups


def _notice(notice: Notice, interactive: bool = False) -> list[Body]:
    prefix = WARNING if notice.is_error else ""
    title = _fit(notice.title or "", 200)
    title = f"{prefix}*{title}*" if title else ""
    body = escape_slack(notice.text, multiline=True)
    if not body and not title:
        body = common.NO_TEXT
    if not title:
        body = prefix + body
    code = code_block(notice.code, entities=True) if notice.code else ""
    full = "\n".join(part for part in (title, body, code) if part)
    texts = common.split_text(full, SLACK_SECTION_TEXT)
    blocks = [_section(text) for text in texts[:SLACK_MAX_BLOCKS]]
    papers = [
        [_paper_section(number, paper, "compact", day=True)]
        for number, paper in enumerate(notice.papers, start=1)
    ]
    fallback = " ".join(t for t in (notice.title, notice.text) if t)
    tail = page_buttons(notice.pages) if interactive and notice.pages else []
    tail += [choices_block(notice.choices)] if interactive and notice.choices else []
    del blocks[SLACK_MAX_BLOCKS - len(tail) :]  # room for the buttons
    return _bodies(blocks, papers, tail, fallback, divider=False)


def render_slack_abstracts(digest: Digest) -> list[Body]:
    """The digest's full abstracts, for a thread reply under the digest message."""
    units = []
    for number, paper in enumerate(digest.papers, start=1):
        title = _fit(paper.title, TITLE_LIMIT) or common.UNTITLED
        abstract = _fit(paper.abstract, SLACK_SECTION_TEXT - len(title) - 20) or "_No abstract._"
        units.append([_section(f"*{number}. {title}*\n{abstract}")])
    if not units:
        return []
    return _bodies([], units, [], f"Abstracts · {common.digest_heading(digest)}")
