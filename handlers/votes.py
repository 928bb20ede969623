"""The "More like this" and "Not for us" buttons under each paper of a channel digest: the
presser's vote on it for that channel (one per paper, a new one replaces it), acknowledged to
them alone with the channel's count. The votes are the channel's taste; they are kept with
who voted, so that each can change or remove their own, but only counts are ever shown.
"""

from __future__ import annotations

from bot.alerts.topics import similar_topic
from bot.errors import UserError
from bot.models import Destination, Paper
from bot.render.neutral import Notice, Reply
from bot.storage.types import VoteCounts
from bot.storage.votes import DISLIKE, LIKE
from bot.wording import plural
from handlers.context import Context
from handlers.subscriptions import owner

GONE_PAPER = "That paper is no longer in the corpus."
SIMILAR_SHOWN = 5


def channel(ctx: Context) -> Destination:
    """The channel whose taste a press counts in (where the digest was posted)."""
    inv = ctx.invocation
    return Destination(inv.platform, inv.workspace, inv.channel)


async def more_like_this(ctx: Context, paper_id: str) -> Reply:
    """A +1 for the paper here, and a few papers like it for the presser."""
    paper, counts = await _vote(ctx, paper_id, LIKE)
    text = f"Noted: more like this — {_people(counts.likes)} here liked it."
    similar = await similar_papers(ctx, paper)
    if similar:
        text += " Papers like it:"
    return Reply(Notice(text, papers=similar))


async def not_for_us(ctx: Context, paper_id: str) -> Reply:
    _, counts = await _vote(ctx, paper_id, DISLIKE)
    text = f"Noted: not for us — {_people(counts.dislikes)} here turned it down."
    return Reply(Notice(text))


async def similar_papers(ctx: Context, paper: Paper) -> tuple[Paper, ...]:
    """Up to five papers of the corpus like `paper`: a search for the topic the "Subscribe
    to similar" button would follow (its keywords, else its title's distinctive words)."""
    try:
        page = await ctx.services.search.search(similar_topic(paper), limit=SIMILAR_SHOWN + 1)
    except UserError:  # a topic the search language cannot run: no suggestions, the vote stays
        return ()
    others = [hit.paper for hit in page.hits if hit.paper.id != paper.id]
    return tuple(others[:SIMILAR_SHOWN])


def _people(count: int) -> str:
    return plural(count, "person", "people")


async def _vote(ctx: Context, paper_id: str, value: int) -> tuple[Paper, VoteCounts]:
    paper = await ctx.services.papers.paper_by_id(paper_id)
    pk = (await ctx.services.papers.pks_for_ids([paper_id])).get(paper_id)
    if paper is None or pk is None:
        raise UserError(GONE_PAPER)
    counts = await ctx.services.votes.vote(channel(ctx).key, pk, owner(ctx).key, value, ctx.now)
    return paper, counts
