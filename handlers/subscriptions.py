"""`/papers subscribe|unsubscribe|subscriptions|pause|resume|alerts`: a user's own topics.

A user's subscriptions are theirs alone: every command acts on the caller's own list in the
caller's own workspace, so no one else can list, change or remove them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.alerts.send import PREVIEW_DAYS, recent_matches
from bot.alerts.topics import (
    UNTIL_RESUMED,
    AlertSettings,
    Subscription,
    clean_topic,
    same_topic,
    similar_topic,
)
from bot.digests.settings import parse_when
from bot.errors import UserError
from bot.models import Destination
from bot.render.neutral import Notice, Reply
from bot.search.query import parse
from bot.wording import plural
from handlers.context import Context

TITLE = "Your topics"


def owner(ctx: Context) -> Destination:
    inv = ctx.invocation
    return Destination(inv.platform, inv.workspace, inv.user, kind="dm")


async def _alerts(ctx: Context) -> AlertSettings:
    return await ctx.services.subscriptions.alert_settings(owner(ctx)) or AlertSettings(owner(ctx))


async def _save_alerts(ctx: Context, settings: AlertSettings) -> None:
    await ctx.services.subscriptions.save_alert_settings(settings, ctx.now)
    if ctx.services.alert_schedule is not None:
        ctx.services.alert_schedule.update(settings)


async def subscribe(ctx: Context, args: str) -> Reply:
    topic = clean_topic(args)
    limit = ctx.services.settings.max_subscriptions
    added, mine = await ctx.services.subscriptions.add_subscription(
        owner(ctx), topic, ctx.now, limit
    )
    if added is None:
        for number, sub in enumerate(mine, 1):
            if same_topic(sub.topic, topic):
                raise UserError(f"You already follow “{sub.topic}” (#{number}).")
        raise UserError(
            f"You follow {plural(len(mine), 'topic')}, the most allowed is {limit}."
            " `/papers unsubscribe <number>` makes room."
        )
    settings = await _alerts(ctx)
    await _save_alerts(ctx, settings)
    preview = await recent_matches(ctx.services.papers, parse(topic))
    caught = (
        "Recent papers it matches:"
        if preview
        else f"No paper on the {PREVIEW_DAYS} newest trending lists matches it yet."
    )
    text = (
        f"Subscribed to “{topic}” (#{len(mine) + 1}). New papers that match come as one direct"
        f" message a day at {_when(settings)}; `/papers alerts 08:00 Europe/Paris` changes it."
    )
    return Reply(Notice(f"{text}\n{caught}", title=TITLE, papers=tuple(preview)))


async def unsubscribe(ctx: Context, args: str) -> Reply:
    which = args.strip()
    if not which:
        raise UserError("Say which: `/papers unsubscribe 2`, a topic, or `all`.")
    mine = await ctx.services.subscriptions.subscriptions(owner(ctx))
    if not mine:
        raise UserError("You follow no topics.")
    chosen = _choose(mine, which)
    removed = await ctx.services.subscriptions.remove_subscriptions(
        owner(ctx), [s.id for s in chosen]
    )
    names = ", ".join(f"“{s.topic}”" for s in chosen[:5]) + (" …" if len(chosen) > 5 else "")
    return _notice(f"Unsubscribed from {names} ({removed} in all).")


def _choose(mine: list[Subscription], which: str) -> list[Subscription]:
    if which.lower() == "all":
        return mine
    if which.lstrip("#").isdecimal():
        number = int(which.lstrip("#"))
        if 1 <= number <= len(mine):
            return [mine[number - 1]]
        raise UserError(
            f"You have {plural(len(mine), 'topic')}; pick a number from 1 to {len(mine)}."
        )
    wanted = " ".join(which.split()).casefold()
    found = [s for s in mine if s.topic.casefold() == wanted]
    if not found:
        raise UserError(f"You do not follow “{which[:100]}”. `/papers subscriptions` lists them.")
    return found


async def subscriptions(ctx: Context, args: str) -> Reply:
    mine = await ctx.services.subscriptions.subscriptions(owner(ctx))
    settings = await _alerts(ctx)
    if not mine:
        return _notice("You follow no topics yet. `/papers subscribe diffusion models` starts.")
    lines = []
    for number, sub in enumerate(mine, 1):
        last = (
            f"last match {sub.last_match_at:%Y-%m-%d}: {sub.last_match_title}"
            if sub.last_match_at and sub.last_match_title
            else "no match yet"
        )
        lines.append(f"{number}. “{sub.topic}” · {last}")
    state = f"paused until {settings.paused_until:%Y-%m-%d}" if settings.paused(ctx.now) else ""
    if settings.paused_until == UNTIL_RESUMED:
        state = "paused (until `/papers resume`)"
    lines.append(f"Alerts: {state or 'daily at ' + _when(settings)}.")
    return _notice("\n".join(lines))


async def pause(ctx: Context, args: str) -> Reply:
    settings = await _alerts(ctx)
    days = args.strip()
    if days and (not days.isdecimal() or not 1 <= int(days) <= 365):
        raise UserError(
            "Pause for a number of days from 1 to 365, or with no number until resumed."
        )
    until = ctx.now + timedelta(days=int(days)) if days else UNTIL_RESUMED
    await _save_alerts(ctx, replace(settings, paused_until=until))
    if days:
        return _notice(f"Alerts paused for {plural(int(days), 'day')}, until {until:%Y-%m-%d}.")
    return _notice("Alerts paused until `/papers resume`.")


async def resume(ctx: Context, args: str) -> Reply:
    settings = await _alerts(ctx)
    await _save_alerts(ctx, replace(settings, paused_until=None))
    return _notice(f"Alerts resumed: daily at {_when(settings)}.")


async def alerts(ctx: Context, args: str) -> Reply:
    parts = args.split()
    if not parts or len(parts) > 2:
        raise UserError(
            "Use `/papers alerts HH:MM [Time/Zone]`, e.g. `/papers alerts 08:00 Europe/Paris`."
        )
    when = parse_when(args)
    if when.at is None:
        raise UserError(
            "Use `/papers alerts HH:MM [Time/Zone]`, e.g. `/papers alerts 08:00 Europe/Paris`."
        )
    settings = when.apply(await _alerts(ctx))
    await _save_alerts(ctx, settings)
    return _notice(f"Your alerts now come daily at {_when(settings)}.")


def _when(settings: AlertSettings) -> str:
    return f"{settings.time:%H:%M} {settings.timezone}"


def _notice(text: str) -> Reply:
    return Reply(Notice(text, title=TITLE))


async def subscribe_similar(ctx: Context, paper_id: str) -> Reply:
    """The "Subscribe to similar" button of a digest: a topic from that paper's keywords."""
    paper = await ctx.services.papers.paper_by_id(paper_id)
    if paper is None:
        raise UserError("That paper is no longer in the corpus.")
    return await subscribe(ctx, similar_topic(paper))
