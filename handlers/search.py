"""`/papers search <query>`: ranked results with highlighted snippets."""

from __future__ import annotations

from bot.errors import UserError
from bot.render.neutral import Reply
from handlers.context import Context


async def search(ctx: Context, args: str) -> Reply:
    if not args:
        raise UserError("Tell me what to look for, e.g. `/papers search diffusion models`.")
    page = await ctx.services.search.search(args, limit=ctx.services.settings.search_page_size)
    return Reply(page)
