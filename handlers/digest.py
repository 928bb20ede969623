"""`/papers digest ...`: a channel's daily digest, for channel managers.

on [HH:MM] [TZ]      start (or move) the daily digest
off                  stop it
set size N | topic <query>|none | days mon-fri | format compact|full | covers latest|yesterday
    | taste on|off
set recap <day> [HH:MM] | off   the weekly recap (its chart too), in the digest's time zone
status               settings, the taste, next run, last post, and why a run posted nothing
now                  post today's digest now (still at most one a day)
taste [reset]        the channel's taste (its votes, as counts), or clear it (handlers.taste)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.budget import in_words
from bot.digests.runs import run_channel_digest
from bot.digests.settings import (
    EXPLANATIONS,
    DigestSettings,
    Outcome,
    answered,
    parse_covers,
    parse_format,
    parse_size,
    parse_switch,
    parse_time,
    parse_weekday,
    parse_weekdays,
    parse_when,
    remedy,
)
from bot.errors import UserError
from bot.models import Destination
from bot.render.neutral import Notice, Reply
from bot.search.query import parse
from bot.wording import plural
from handlers.context import Context
from handlers.guards import ManagersOnly
from handlers.taste import taste, taste_summary
from schedules.digests import next_run
from schedules.recaps import next_recap

TITLE = "Daily digest"
USAGE = (
    "Use `/papers digest on [HH:MM] [Time/Zone]`, `off`, `status`, `now`, or"
    " `set size N`, `set topic <query>`, `set days mon-fri`, `set format compact|full`,"
    " `set covers latest|yesterday`, `set taste on|off`, `set recap sun [17:00]|off`,"
    " or `taste [reset]`."
)


@ManagersOnly
async def digest(ctx: Context, args: str) -> Reply:
    action, _, rest = args.partition(" ")
    action = action.lower() or "status"
    rest = rest.strip()
    if action == "status":
        return await status(ctx)
    if action == "on":
        return await _turn_on(ctx, rest)
    if action == "off":
        return await _turn_off(ctx)
    if action == "set":
        return await _set(ctx, rest)
    if action == "now":
        return await _now(ctx)
    if action == "taste":
        return await taste(ctx, rest)
    raise UserError(f"Unknown digest command `{action[:20]}`. {USAGE}")


def destination(ctx: Context) -> Destination:
    inv = ctx.invocation
    return Destination(inv.platform, inv.workspace, inv.channel)


async def _current(ctx: Context) -> DigestSettings | None:
    return await ctx.services.digests.channel_digest(destination(ctx).key)


async def _save(ctx: Context, settings: DigestSettings) -> None:
    await ctx.services.digests.save_channel_digest(settings, ctx.invocation.user, ctx.now)
    if ctx.services.digest_schedule is not None:
        ctx.services.digest_schedule.update(settings)


async def _turn_on(ctx: Context, rest: str) -> Reply:
    settings = await _current(ctx) or DigestSettings(
        destination(ctx), size=ctx.services.settings.digest_size
    )
    if len(rest.split()) > 2:
        raise UserError(f"`on` takes a time and a time zone, e.g. `on 08:30 Europe/Paris`. {USAGE}")
    settings = parse_when(rest).apply(replace(settings, enabled=True))
    await _save(ctx, settings)
    # A manager turning it on here is the sign the platform's refusal was dealt with.
    await ctx.services.delivery.retry_now(settings.destination.key)
    return _notice(f"On: {settings.describe()}.\n{_next_line(settings, ctx.now)}")


async def _turn_off(ctx: Context) -> Reply:
    settings = await _current(ctx)
    if settings is None or not settings.enabled:
        return _notice("The daily digest is already off here.")
    await _save(ctx, replace(settings, enabled=False))
    return _notice("Off. `/papers digest on` starts it again with the same settings.")


async def _set(ctx: Context, rest: str) -> Reply:
    name, _, value = rest.partition(" ")
    name, value = name.lower(), value.strip()
    settings = await _current(ctx) or DigestSettings(
        destination(ctx), enabled=False, size=ctx.services.settings.digest_size
    )
    if not value:
        raise UserError(f"`set {name[:20]}` needs a value. {USAGE}")
    if name == "recap":
        return await _set_recap(ctx, settings, value)
    if name == "size":
        settings = replace(settings, size=parse_size(value))
    elif name == "topic":
        settings = replace(settings, topic=_topic(value))
    elif name in ("days", "weekdays"):
        settings = replace(settings, weekdays=parse_weekdays(value))
    elif name == "format":
        settings = replace(settings, format=parse_format(value))
    elif name == "covers":
        settings = replace(settings, covers=parse_covers(value))
    elif name == "taste":
        settings = replace(settings, taste=parse_switch(value, "taste"))
    elif name in ("time", "timezone", "tz"):
        raise UserError("Set the time and zone with `/papers digest on 08:30 Europe/Paris`.")
    else:
        raise UserError(f"There is no digest setting `{name[:20]}`. {USAGE}")
    await _save(ctx, settings)
    state = "" if settings.enabled else " (the digest is off: `/papers digest on` starts it)"
    return _notice(f"Saved: {settings.describe()}{state}.")


async def _set_recap(ctx: Context, settings: DigestSettings, value: str) -> Reply:
    words = value.split()
    if words[0].lower() in ("off", "none"):
        if len(words) > 1:
            raise UserError("`set recap off` takes nothing more.")
        settings = replace(settings, recap_day=None, recap_time=None)
    elif len(words) > 2:
        raise UserError("`set recap` takes a weekday and a time, e.g. `set recap fri 16:00`.")
    else:
        at = parse_time(words[1]) if len(words) == 2 else None
        name = ctx.invocation.channel_name or settings.recap_name
        day = parse_weekday(words[0])
        settings = replace(settings, recap_day=day, recap_time=at, recap_name=name)
    await _save(ctx, settings)
    return _notice(f"Saved. {_recap_lines(settings, ctx.now)}")


def _recap_lines(settings: DigestSettings, now: datetime) -> str:
    upcoming = next_recap(settings, now)
    if upcoming is None:
        return settings.describe_recap()
    return f"{settings.describe_recap()} Next: {_local(upcoming, settings)}."


def _topic(value: str) -> str | None:
    if value.lower() in ("none", "off", "-", "all"):
        return None
    if parse(value).is_empty:
        raise UserError("That topic has no words to match; e.g. `set topic agents -survey`.")
    return value


async def _now(ctx: Context) -> Reply:
    # Each try runs the digest and retries what waits: not on every press of Enter.
    wait = ctx.services.budgets.digest(destination(ctx), ctx.now)
    if wait is not None:
        raise UserError(
            f"`digest now` runs at most once a minute in a channel: try again in {in_words(wait)}."
        )
    settings = await _current(ctx) or DigestSettings(
        destination(ctx), enabled=False, size=ctx.services.settings.digest_size
    )
    waiting = await ctx.services.delivery.retry_now(settings.destination.key)
    if any(receipt.ok for receipt in waiting.values()):
        return _notice("Sent the digest that was waiting to be delivered here.")
    run = await run_channel_digest(ctx.services, settings, ctx.now)
    if run is None:
        return _notice(
            "Today's digest was already posted here (or waits to be delivered): paperwire"
            " posts at most one a day per channel."
        )
    if run.outcome is Outcome.POSTED:
        return _notice(f"Posted {plural(run.posted, 'paper')} from the list of {run.list_day}.")
    if run.outcome is Outcome.QUEUED:
        state = await ctx.services.outbox.destination_state(settings.destination.key)
        if state.stopped:
            return _notice(f"Not posted. {_stopped(ctx, state.error)}")
        return _notice(
            f"Not posted yet: {answered(_platform(ctx), run.detail)}. The digest waits and is"
            " retried; `/papers digest status` shows it."
        )
    return _notice(f"Nothing posted: {_why(run.outcome, run.detail)}.")


def _platform(ctx: Context) -> str:
    return {"slack": "Slack", "discord": "Discord"}.get(ctx.invocation.platform, "the platform")


def _stopped(ctx: Context, error: str | None) -> str:
    """A stopped destination: that it is, why, and what a manager does about it."""
    return (
        f"Posting here is stopped: {answered(_platform(ctx), error)}. To fix it,"
        f" {remedy(error)}; then `/papers digest on` resumes posting (what waits is kept)."
    )


async def status(ctx: Context) -> Reply:
    settings = await _current(ctx)
    state = await ctx.services.outbox.destination_state(destination(ctx).key)
    stopped = [_stopped(ctx, state.error)] if state.stopped else []
    if settings is None:
        start = "No daily digest here yet. `/papers digest on 09:00 Europe/Paris` starts one."
        return _notice("\n".join([start, *stopped]))
    lines = [f"{'On' if settings.enabled else 'Off'}: {settings.describe()}."]
    if settings.enabled:
        lines.append(_next_line(settings, ctx.now))
    lines.append(await taste_summary(ctx, settings.destination, settings))
    if settings.recap_day is not None:
        lines.append(_recap_lines(settings, ctx.now))
    lines += stopped
    runs = await ctx.services.digests.digest_runs(settings.destination.key)
    posted = next((r for r in runs if r.outcome is Outcome.POSTED), None)
    if posted is not None:
        when = _local(posted.started_at, settings)
        lines.append(
            f"Last post: {when}, {plural(posted.posted, 'paper')}"
            f" from the list of {posted.list_day}."
        )
    else:
        lines.append("Nothing posted here yet.")
    if runs and runs[0].outcome is Outcome.QUEUED:
        last = runs[0]
        lines.append(
            f"The digest of {last.run_day:%A} {last.run_day.day} {last.run_day:%B} is waiting"
            f" to be delivered: {answered(_platform(ctx), last.detail)}."
        )
    elif runs and runs[0].outcome not in (Outcome.POSTED, Outcome.RUNNING):
        last = runs[0]
        lines.append(
            f"The run of {last.run_day:%A} {last.run_day.day} {last.run_day:%B} posted nothing:"
            f" {_why(last.outcome, last.detail)}."
        )
    return _notice("\n".join(lines))


def _next_line(settings: DigestSettings, now: datetime) -> str:
    upcoming = next_run(settings, now)
    if upcoming is None:
        return "No run is scheduled."
    return f"Next: {_local(upcoming, settings)} ({settings.timezone})."


def _local(moment: datetime, settings: DigestSettings) -> str:
    local = moment.astimezone(settings.zone)
    return f"{local:%A} {local.day} {local:%B}, {local:%H:%M}"


def _why(outcome: Outcome, detail: str | None) -> str:
    text = EXPLANATIONS.get(outcome, outcome.value)
    return f"{text} ({detail})" if detail and outcome is Outcome.PLATFORM_ERROR else text


def _notice(text: str) -> Reply:
    return Reply(Notice(text, title=TITLE))
