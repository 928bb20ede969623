"""`/papers forget me`: everything paperwire keeps about the asker, removed once they
confirm: their votes in every channel, their topics, alert settings and what waits for
them, and their reading list. Answered to them alone, with what was removed.

A user is their key in one workspace (a Slack team, a Discord server), as everywhere in
paperwire: what they did in another is forgotten from there."""

from __future__ import annotations

from bot.errors import UserError
from bot.render.neutral import Notice, Reply
from bot.wording import plural
from handlers.confirm import ask, confirmed
from handlers.context import Context
from handlers.subscriptions import owner

FORGET_ME = "forgetme"  # the confirming button's action (handlers.buttons)
TITLE = "Forget me"
USAGE = (
    "Use `/papers forget me`: it removes your votes, topics, alert settings and reading list"
    " here, once you confirm."
)
WHAT_GOES = (
    "This removes everything paperwire keeps about you here: your More like this and Not for"
    " us votes in every channel, your topics and alert settings (and alerts not yet sent),"
    " and your reading list. It cannot be undone."
)
DROPPED = "forgotten at the user's request"  # the outbox's note on what was not sent


async def forget(ctx: Context, args: str) -> Reply:
    words = args.lower().split()
    sure = confirmed(words[1:])
    if words[:1] != ["me"] or sure is None:
        raise UserError(USAGE)
    if sure:
        return await forget_me(ctx)
    return ask(WHAT_GOES, TITLE, "Forget me", FORGET_ME, "/papers forget me")


async def forget_pressed(ctx: Context, press: object) -> Reply:
    """The "Forget me" button: forgets whoever pressed it (it was shown to them alone)."""
    return await forget_me(ctx)


async def forget_me(ctx: Context) -> Reply:
    user = owner(ctx)
    services = ctx.services
    votes = await services.votes.forget_user(user.key)
    topics = await services.subscriptions.forget_user(user)
    saved = await services.saved_papers.forget_user(user)
    await services.digests.forget_editor(user.workspace_prefix, ctx.invocation.user)
    unsent = await services.outbox.forget_destination(user.key, DROPPED)
    text = (
        f"Done: removed {plural(votes, 'vote')}, {plural(topics, 'topic')} with your alert"
        f" settings, and {plural(saved, 'saved paper')}."
    )
    if unsent:
        text += f" Dropped {plural(unsent, 'alert message')} not yet delivered."
    return Reply(Notice(text, title=TITLE), private=True)
