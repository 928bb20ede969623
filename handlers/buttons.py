"""The buttons under paperwire's messages (Next, Share, Abstract, Similar, More like this,
Not for us, Save, a reading list's Previous and Next, and the choices under a question:
Forget me, Clear the votes, Cancel): what a press answers, whatever the platform.

An adapter turns a press into a `Press`: the button's action and what the button carries,
decoded from the platform's form (Slack's JSON value, Discord's custom id), or None when it
does not decode. Each handler checks the value (`bot.buttons`) before anything uses it: one
paperwire did not write is answered with `STALE_BUTTON`. How the answer goes back (Slack
replaces the results a Next was pressed under) stays the adapter's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot import buttons
from bot.buttons import STALE_BUTTON
from bot.errors import UserError
from bot.render.neutral import Notice, Reply
from handlers.confirm import CANCEL, cancel
from handlers.context import Context
from handlers.forget import FORGET_ME, forget_pressed
from handlers.guards import needs_manager as guarded
from handlers.reading import TAG, save_pressed, saved_page
from handlers.subscriptions import subscribe_similar
from handlers.taste import TASTE_RESET, reset_pressed
from handlers.votes import more_like_this, not_for_us

NEXT = "next"
SHARE = "share"
ABSTRACT = "abstract"
SIMILAR = "similar"
MORE_LIKE = "more"  # a channel's vote for the paper ("More like this")
NOT_FOR_US = "notforus"  # and against it ("Not for us")
SAVE = "save"  # onto the presser's reading list
SAVED_PAGE = "saved"  # another page of the presser's reading list
# The choices under a question (`bot.render.neutral.Choice`): they carry no value.
CHOICES = (FORGET_ME, TASTE_RESET, CANCEL)
EXPIRED_SEARCH = "That search has expired; search again."
GONE_PAPER = "That paper is no longer in the corpus."


@dataclass(frozen=True)
class Page:
    """The page of a search a Next or Share button stands for: its first result's offset,
    and the query itself or the key it was saved under (a Discord custom id holds 100
    characters: the query is kept in the store)."""

    offset: int
    query: str | None = None
    saved_as: str | None = None


@dataclass(frozen=True)
class ListPage:
    """The page of the presser's reading list a "Previous" or "Next" button shows (of the
    papers tagged `tag`, or all)."""

    page: int
    tag: str | None = None


@dataclass(frozen=True)
class Press:
    """One button press, as any platform delivers it."""

    action: str  # NEXT, SHARE, ..., SAVE, SAVED_PAGE, or one of CHOICES; others are out of date
    value: Page | ListPage | str | None  # a page (Next, Share, SAVED_PAGE), a paper id, none


async def next_page(ctx: Context, press: Press) -> Reply:
    page = press.value
    if not isinstance(page, Page) or (offset := buttons.search_offset(page.offset)) is None:
        raise UserError(STALE_BUTTON)
    query = await _query(ctx, page)
    size = ctx.services.settings.search_page_size
    return Reply(await ctx.services.search.search(query, limit=size, offset=offset))


async def share(ctx: Context, press: Press) -> Reply:
    """The same page, posted for the whole channel."""
    page = await next_page(ctx, press)
    return Reply(page.content, ephemeral=False)


async def abstract(ctx: Context, press: Press) -> Reply:
    paper = await ctx.services.papers.paper_by_id(_paper_id(press))
    if paper is None:
        raise UserError(GONE_PAPER)
    return Reply(Notice(paper.abstract or "No abstract.", title=paper.title))


async def similar(ctx: Context, press: Press) -> Reply:
    """ "Subscribe to similar": a topic of the paper's keywords, for the presser."""
    return await subscribe_similar(ctx, _paper_id(press))


async def more_like(ctx: Context, press: Press) -> Reply:
    return await more_like_this(ctx, _paper_id(press))


async def not_ours(ctx: Context, press: Press) -> Reply:
    return await not_for_us(ctx, _paper_id(press))


async def save(ctx: Context, press: Press) -> Reply:
    return await save_pressed(ctx, _paper_id(press))


async def list_page(ctx: Context, press: Press) -> Reply:
    page = press.value
    if not isinstance(page, ListPage) or buttons.list_page(page.page) is None:
        raise UserError(STALE_BUTTON)
    if page.tag is not None and not TAG.fullmatch(page.tag):
        raise UserError(STALE_BUTTON)
    return await saved_page(ctx, page.page, page.tag)


async def out_of_date(ctx: Context, press: Press) -> Reply:
    """A button of another version, or one paperwire never wrote."""
    raise UserError(STALE_BUTTON)


async def _query(ctx: Context, page: Page) -> str:
    if page.query is not None:
        if not page.query.strip():
            raise UserError(STALE_BUTTON)
        return page.query
    if page.saved_as is None:
        raise UserError(STALE_BUTTON)
    query = await ctx.services.saved_queries.saved_query(page.saved_as)
    if query is None:
        raise UserError(EXPIRED_SEARCH)
    return query


def _paper_id(press: Press) -> str:
    paper_id = buttons.paper_id(press.value)
    if paper_id is None:
        raise UserError(STALE_BUTTON)
    return paper_id


ButtonHandler = Callable[[Context, Press], Awaitable[Reply]]

BUTTONS: dict[str, ButtonHandler] = {
    NEXT: next_page,
    SHARE: share,
    ABSTRACT: abstract,
    SIMILAR: similar,
    MORE_LIKE: more_like,
    NOT_FOR_US: not_ours,
    SAVE: save,
    SAVED_PAGE: list_page,
    FORGET_ME: forget_pressed,
    TASTE_RESET: reset_pressed,  # channel managers only
    CANCEL: cancel,
}


def handler_for(action: str) -> ButtonHandler:
    return BUTTONS.get(action, out_of_date)


def needs_manager(action: str) -> bool:
    """Whether the button is for channel managers only ("Clear the votes"; the others act
    for their presser alone)."""
    return guarded(handler_for(action))
