"""A channel's taste, as its managers see it: `/papers digest taste` (and its lines in
`/papers digest status`) and `/papers digest taste reset`. The taste is the channel's "More
like this" and "Not for us" votes (handlers/votes.py); only their counts are ever shown,
never who voted."""

from __future__ import annotations

from bot.digests.settings import DigestSettings
from bot.errors import UserError
from bot.models import Destination
from bot.render.neutral import Notice, Reply
from bot.taste.loading import load_profile
from bot.wording import plural
from handlers.confirm import ask, confirmed
from handlers.context import Context
from handlers.guards import ManagersOnly
from handlers.votes import channel

TASTE_RESET = "tastereset"  # the confirming button's action (handlers.buttons)
TITLE = "This channel's taste"
USAGE = "Use `/papers digest taste` to see it, or `/papers digest taste reset` to clear it."
TOP_TERMS_SHOWN = 8


async def taste(ctx: Context, rest: str) -> Reply:
    """`digest taste [reset [--yes]]` (the digest command checked the asker manages the
    channel)."""
    words = rest.lower().split()
    if not words:
        return _notice(await taste_summary(ctx, channel(ctx), await _settings(ctx)))
    sure = confirmed(words[1:])
    if words[0] != "reset" or sure is None:
        raise UserError(f"Unknown taste command `{rest[:30]}`. {USAGE}")
    if sure:
        return await reset(ctx)
    counts = await ctx.services.votes.channel_counts(channel(ctx).key)
    if not counts:
        return _notice("This channel has no votes to clear.")
    votes = sum(c.likes + c.dislikes for c in counts.values())
    text = (
        f"This clears all {plural(votes, 'vote')} cast here (More like this, Not for us):"
        " the digest goes back to the plain trending order until people vote again."
    )
    return ask(text, TITLE, "Clear the votes", TASTE_RESET, "/papers digest taste reset")


@ManagersOnly
async def reset_pressed(ctx: Context, press: object) -> Reply:
    """The "Clear the votes" button under the question `digest taste reset` asked."""
    return await reset(ctx)


async def reset(ctx: Context) -> Reply:
    cleared = await ctx.services.votes.forget_channel(channel(ctx).key)
    if not cleared:
        return _notice("This channel had no votes to clear.")
    return _notice(f"Cleared {plural(cleared, 'vote')}: the taste starts again from nothing.")


async def taste_summary(
    ctx: Context, destination: Destination, settings: DigestSettings | None
) -> str:
    """The taste in a line or two: whether it re-ranks the digest, the votes as counts
    (never who), and the terms that weigh most in it."""
    state = "on" if settings is None or settings.taste else "off"
    counts = await ctx.services.votes.channel_counts(destination.key)
    if not counts:
        return (
            f"Taste: {state}, no votes yet (More like this and Not for us under each paper"
            " of the digest steer it)."
        )
    likes = sum(c.likes for c in counts.values())
    dislikes = sum(c.dislikes for c in counts.values())
    lines = [
        f"Taste: {state}, from {likes} More like this and {dislikes} Not for us"
        f" on {plural(len(counts), 'paper')}."
    ]
    if state == "off":
        lines[0] += " The votes are kept; `/papers digest set taste on` uses them again."
    terms = await top_terms(ctx, destination, settings.topic if settings else None)
    if terms:
        lines.append(f"It leans to: {', '.join(terms)}.")
    return "\n".join(lines)


async def top_terms(ctx: Context, destination: Destination, topic: str | None) -> tuple[str, ...]:
    """The words that weigh most in the channel's taste profile (its votes and its digest
    topic), at most `TOP_TERMS_SHOWN`."""
    profile = await load_profile(ctx.services, destination.key, topic)
    return tuple(profile.top_terms(TOP_TERMS_SHOWN))


async def _settings(ctx: Context) -> DigestSettings | None:
    return await ctx.services.digests.channel_digest(channel(ctx).key)


def _notice(text: str) -> Reply:
    return Reply(Notice(text, title=TITLE), private=True)
