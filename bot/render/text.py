"""Neutral replies as plain terminal text, for the console platform and the CLI."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from functools import partial
from typing import Any, TextIO

from bot.models import Paper
from bot.render import common
from bot.render.escape import clean_terminal, strip_controls
from bot.render.limits import shorten
from bot.render.neutral import Content, Digest, Help, Highlighted, Notice, SearchPage, TopicAlert

BOLD, RESET = "\x1b[1m", "\x1b[0m"
INDENT = "   "
TITLE_LIMIT = 300
SNIPPET_LIMIT = 400
LINE_LIMIT = 2000


def wants_color(stream: TextIO, env: Mapping[str, str] | None = None) -> bool:
    """Bold (titles, matches) for a terminal, unless NO_COLOR is set (no-color.org);
    elsewhere matches are shown in [brackets]."""
    env = os.environ if env is None else env
    return stream.isatty() and not env.get("NO_COLOR")


def render_text(content: Content, *, color: bool = False) -> str:
    """`content` as readable text; ANSI bold for titles and matches only when `color`."""
    if isinstance(content, Digest):
        lines = _digest(content, color)
    elif isinstance(content, TopicAlert):
        lines = _alert(content, color)
    elif isinstance(content, SearchPage):
        lines = _search(content, color)
    elif isinstance(content, Help):
        lines = _help(content, color)
    else:
        lines = _notice(content, color)
    return "\n".join(lines).rstrip() + "\n"


def _clean(text: str, limit: int = LINE_LIMIT) -> str:
    return shorten(clean_terminal(text), limit)


def _bold(text: str, color: bool) -> str:
    return f"{BOLD}{text}{RESET}" if color and text else text


def _digest(digest: Digest, color: bool) -> list[str]:
    heading = common.digest_heading(digest)
    topic = _clean(digest.topic or "", 200)
    if topic:
        heading += f" · topic: {topic}"
    lines = [_bold(heading, color)]
    lines += _present(_clean(digest.note or ""))
    lines.append("")
    if not digest.papers:
        lines += [common.EMPTY_DIGEST, ""]
    for number, paper in enumerate(digest.papers, start=1):
        lines.append(f"{number}. {_title(paper, color)}")
        why = digest.reason(number - 1)
        if why:
            lines += [INDENT + line for line in _present(_clean(common.why_text(why), 120))]
        lines += _paper_lines(paper, common.detail_lines(paper, digest.style))
        lines.append("")
    lines.append(common.FOOTER)
    return lines


def _alert(alert: TopicAlert, color: bool) -> list[str]:
    lines = [_bold(common.alert_heading(alert), color), ""]
    for group in alert.groups:
        lines.append(_bold(f"Topic {common.quoted(_clean(group.topic, 200))}", color))
        for number, paper in enumerate(group.papers, start=1):
            lines.append(f"{number}. {_title(paper, color)}")
            lines += _paper_lines(paper, common.detail_lines(paper, "compact"))
        if group.more:
            lines.append(_clean(common.more_matches(group)))
        lines.append("")
    if alert.updates:
        lines += [*_updates(alert, color), ""]
    lines.append(common.ALERT_FOOTER)
    return lines


def _updates(alert: TopicAlert, color: bool) -> list[str]:
    """ "Your reading list": a line per change, "- title — v2 posted", the link under it."""
    lines = [_bold(common.READING_LIST, color)]
    for update in alert.updates:
        lines.append(f"- {_title(update.paper, color)} — {_clean(common.update_text(update), 300)}")
        url = common.paper_url(update.paper)
        if url:
            lines.append(INDENT + url)
    if alert.more_updates:
        lines.append(common.more_updates(alert))
    return lines


def _title(paper: Paper, color: bool) -> str:
    return _bold(_clean(paper.title, TITLE_LIMIT) or common.UNTITLED, color)


def _present(text: str) -> list[str]:
    """`text` as a line, or no line when it cleaned to nothing."""
    return [text] if text else []


def _paper_lines(paper: Paper, details: list[str], day: bool = False) -> list[str]:
    """URL, the facts line (day, authors, upvotes, code) and `details`, indented."""
    lines = []
    url = common.paper_url(paper)
    if url:
        lines.append(INDENT + url)
    facts = []
    trended = common.trend_day(paper)
    if day and trended:
        facts.append(f"Trended {common.format_day(trended)}")
    authors = common.short_authors([clean_terminal(a) for a in paper.authors])
    facts += [f for f in (authors, common.upvote_text(paper)) if f]
    code = common.code_url(paper)
    if code:
        facts.append(f"code: {code}")
    if facts:
        lines.append(INDENT + " · ".join(facts))
    lines += [INDENT + text for text in map(_clean, details) if text]
    return lines


def _highlighted(text: Highlighted, limit: int, color: bool) -> str:
    mark = partial(common.mark_segment, left=BOLD, right=RESET) if color else _brackets
    return common.fit_highlighted(text, limit, clean_terminal, mark)


def _brackets(piece: str) -> str:
    return common.mark_segment(piece, "[", "]")


def _search(page: SearchPage, color: bool) -> list[str]:
    query = common.quoted(_clean(page.query, 200))
    note = _present(_clean(page.note or ""))
    if not page.hits:
        return [f"No results for {query}.", *note, common.no_results_hint(page)]
    lines = [_bold(common.results_heading(page, query), color), *note, ""]
    for number, hit in enumerate(page.hits, start=page.offset + 1):
        title = _highlighted(hit.title, TITLE_LIMIT, color) or common.UNTITLED
        lines.append(f"{number}. {title}")
        lines += _paper_lines(hit.paper, [], day=True)
        snippet = _highlighted(hit.snippet, SNIPPET_LIMIT, color)
        if snippet:
            lines.append(INDENT + snippet)
        lines.append("")
    if page.has_more:
        lines.append(common.more_hint(page))
    return lines


def _help(help_: Help, color: bool) -> list[str]:
    lines = []
    error = _clean(help_.error or "")
    if error:
        lines += [f"Error: {error}", ""]
    lines.append(_bold(_clean(help_.title, 200) or common.UNTITLED, color))
    usages = [_clean(topic.usage, 80) for topic in help_.topics]
    width = max((len(u) for u in usages), default=0)
    for usage, topic in zip(usages, help_.topics, strict=True):
        lines.append(f"  {usage.ljust(width)}  {_clean(topic.summary, 300)}")
    footer = _clean(help_.footer)
    if footer:
        lines += ["", footer]
    return lines


def _notice(notice: Notice, color: bool) -> list[str]:
    body = clean_terminal(notice.text, multiline=True)
    title = _clean(notice.title or "", 200)
    if not body and not title:
        body = common.NO_TEXT
    if notice.is_error:
        title = f"Error: {title}" if title else ""
        body = body if title else f"Error: {body}"
    lines = [_bold(title, color), *_present(body)] if title else [body]
    if notice.code:  # verbatim, indentation kept: it is meant to be copied
        lines += strip_controls(notice.code).splitlines()
    for number, paper in enumerate(notice.papers, start=1):
        title = _clean(paper.title, TITLE_LIMIT) or common.UNTITLED
        lines.append(f"{number}. {_bold(title, color)}")
        lines += _paper_lines(paper, [], day=True)
    return lines


def print_json(value: Any) -> None:
    """A command's `--json` output: indented, non-ASCII kept as is."""
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
