"""The buttons under Slack messages (Block Kit `button` elements, plain dicts): their
action ids, which the Slack adapter listens for, and the values they carry (a paper's id, a
search's page, a reading list's page), each within Slack's 2,000 characters."""

from __future__ import annotations

import json
from typing import Any

from bot.models import Paper
from bot.render.limits import SLACK_BUTTON_TEXT, SLACK_BUTTON_VALUE, shorten
from bot.render.neutral import Choice, ListPages, SearchPage

Block = dict[str, Any]

# Buttons (with `interactive`): their action ids, which the Slack adapter listens for.
ACTION_NEXT = "papers_next"
ACTION_SHARE = "papers_share"
ACTION_ABSTRACT = "papers_abstract"
ACTION_SIMILAR = "papers_similar"
ACTION_MORE_LIKE = "papers_more_like"  # a channel's vote on a digest's paper
ACTION_NOT_FOR_US = "papers_not_for_us"
ACTION_SAVE = "papers_save"  # onto the presser's reading list
ACTION_SAVED_PAGE = "papers_saved_page"  # a reading list's "Previous" / "Next"
CHOICE_PREFIX = "papers_choice_"  # then the neutral action: a notice's choices (Forget me)


def paper_buttons(paper: Paper, interactive: bool, votes: bool = False) -> list[Block]:
    """ "Abstract" (shown only to whoever asks) and "Subscribe to similar"; with `votes` (a
    digest's papers) "More like this" and "Not for us", the channel's taste; "Save" to the
    presser's reading list. One actions block of at most 5 elements."""
    if not interactive or len(paper.id) > SLACK_BUTTON_VALUE:
        return []
    buttons = [button("Subscribe to similar", ACTION_SIMILAR, paper.id)]
    if paper.abstract:
        buttons.insert(0, button("Abstract", ACTION_ABSTRACT, paper.id))
    if votes:
        buttons.append(button("More like this", ACTION_MORE_LIKE, paper.id))
        buttons.append(button("Not for us", ACTION_NOT_FOR_US, paper.id))
    buttons.append(button("Save", ACTION_SAVE, paper.id))
    return [{"type": "actions", "elements": buttons}]


def search_buttons(page: SearchPage) -> Block:
    """ "Share in channel" posts this page for everyone; "Next" shows the following one."""
    here = json.dumps({"q": page.query, "o": page.offset}, ensure_ascii=False)
    after = json.dumps({"q": page.query, "o": page.offset + len(page.hits)}, ensure_ascii=False)
    buttons = [button("Share in channel", ACTION_SHARE, here)]
    if page.has_more:
        buttons.append(button("Next", ACTION_NEXT, after))
    # A value over Slack's limit would be refused: such a query gets no buttons.
    fits = [b for b in buttons if len(b["value"]) <= SLACK_BUTTON_VALUE]
    return {"type": "actions", "elements": fits}


def button(text: str, action_id: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }


def page_buttons(pages: ListPages) -> list[Block]:
    """ "Previous" and "Next" under a reading list's page, those that lead somewhere."""
    buttons = []
    for label, page in (("Previous", pages.page - 1), ("Next", pages.page + 1)):
        if 1 <= page <= pages.pages:
            value = json.dumps({"p": page, "t": pages.tag}, ensure_ascii=False)
            buttons.append(button(label, ACTION_SAVED_PAGE, value))
    return [{"type": "actions", "elements": buttons}] if buttons else []


def choices_block(choices: tuple[Choice, ...]) -> Block:
    """One actions block of a notice's choices (Slack takes 25 elements; there are 2)."""
    elements = []
    for choice in choices[:5]:
        label = shorten(choice.label, SLACK_BUTTON_TEXT)
        # Its value says nothing more than its action: the press acts for the presser.
        element = button(label, choice_action_id(choice), choice.action)
        if choice.danger:
            element["style"] = "danger"
        elements.append(element)
    return {"type": "actions", "elements": elements}


def choice_action_id(choice: Choice | str) -> str:
    """The Slack action id of a choice (or of its neutral action)."""
    return CHOICE_PREFIX + (choice if isinstance(choice, str) else choice.action)
