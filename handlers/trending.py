"""`/papers trending [YYYY-MM-DD]`: a day's trending papers, ranked."""

from __future__ import annotations

from datetime import date

from bot.digests.build import build_digest
from bot.errors import UserError
from bot.render.neutral import Reply
from handlers.context import Context


async def trending(ctx: Context, args: str) -> Reply:
    day = parse_day(args) if args else None
    digest = await build_digest(
        ctx.services.papers, now=ctx.now, day=day, limit=ctx.services.settings.digest_size
    )
    return Reply(digest)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"`{text[:40]}` is not a date; use YYYY-MM-DD, e.g. `/papers trending 2026-07-01`."
        ) from None
