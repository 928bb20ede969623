"""`/papers save` and `/papers saved …`: a user's own reading list, private to them.

Every answer goes to the asker alone (`private`), even where answers are public, and every
command acts on the asker's own list in the asker's own workspace.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable, Sequence

from bot.errors import UserError
from bot.ingest import ingest_arxiv_ids
from bot.models import Paper, normalize_arxiv_id, normalize_title
from bot.reading.export import EXTENSIONS, FORMAT_NAMES, FORMATS, MIME_TYPES, ExportFormat, export
from bot.render.limits import MAX_FILE_BYTES, size_text
from bot.render.neutral import Attachment, ListPages, Notice, Reply
from bot.sources.errors import SourceError
from bot.sources.http import HttpError
from bot.storage.types import SavedPaper
from bot.wording import plural
from handlers.context import Context
from handlers.subscriptions import owner

_log = logging.getLogger(__name__)

TITLE = "Your reading list"
PAGE_SIZE = 10
EXPORT_NAME = "paperwire-saved"
_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)?(10\.\d{4,9}/\S+)$", re.I)
TAG = re.compile(r"^[\w.+-]{1,40}$")
SAVED_USAGE = (
    "Use `/papers saved [page]`, `/papers saved --tag <tag> [page]`,"
    " `/papers saved search <words>`, `/papers saved remove <n|id>`,"
    " `/papers saved tag <n> <tag>` or `/papers saved export [bibtex|ris] [--tag <tag>]`."
)
NOT_SAVED = "paperwire does not know that paper (any more); nothing was saved."


def _private(text: str) -> Reply:
    return Reply(Notice(text, title=TITLE), private=True)


Handler = Callable[[Context, str], Awaitable[Reply]]


def _privately(handler: Handler) -> Handler:
    """Mistakes too are answered to the asker alone: they may name what is in their list."""

    @functools.wraps(handler)
    async def answer(ctx: Context, args: str) -> Reply:
        return await _answered_privately(handler(ctx, args))

    return answer


async def _answered_privately(answering: Awaitable[Reply]) -> Reply:
    try:
        return await answering
    except UserError as exc:
        return Reply(Notice(str(exc), is_error=True), private=True)


def paper_id_from(text: str) -> str | None:
    """The paper id in an arXiv id or URL (`2509.04664v2`, `arxiv.org/abs/…`) or a DOI."""
    text = text.strip().strip("<>")
    arxiv = normalize_arxiv_id(text)
    if arxiv:
        return arxiv
    doi = _DOI.match(text)
    return doi.group(1) if doi else None


@_privately
async def save(ctx: Context, args: str) -> Reply:
    if not args.strip():
        raise UserError("Say which paper: `/papers save 2509.04664` or its arXiv URL.")
    paper = await _known_paper(ctx, args)
    pks = await ctx.services.papers.pks_for_ids([paper.id])
    added = await ctx.services.saved_papers.save_paper(owner(ctx), pks[paper.id], ctx.now)
    if not added:
        return _private(f"“{paper.title}” is already in your list.")
    return _private(f"Saved “{paper.title}”. `/papers saved` shows your list.")


@_privately
async def save_pressed(ctx: Context, paper_id: str) -> Reply:
    """A paper's "Save" button (a digest's, a search's, an alert's): the paper saved for the
    presser alone. Only a paper paperwire knows: a button's id may be forged, so it is never
    asked of arXiv."""
    paper = await ctx.services.papers.paper_by_id(paper_id)
    pk = (await ctx.services.papers.pks_for_ids([paper_id])).get(paper_id)
    if paper is None or pk is None:
        raise UserError(NOT_SAVED)
    added = await ctx.services.saved_papers.save_paper(owner(ctx), pk, ctx.now)
    count = plural(len(await _mine(ctx)), "paper")
    text = f"Saved — {count} in your list." if added else f"Already in your list ({count})."
    return Reply(Notice(text, title=paper.title), private=True)


async def saved_page(ctx: Context, page: int, tag: str | None) -> Reply:
    """The page a reading list's "Previous" or "Next" button shows."""
    return await _answered_privately(_list(ctx, str(page), tag))


async def _known_paper(ctx: Context, text: str) -> Paper:
    paper_id = paper_id_from(text)
    if paper_id is None:
        raise UserError(
            f"“{text.strip()[:100]}” is no arXiv id, arXiv URL or DOI"
            " (e.g. `2509.04664` or `https://arxiv.org/abs/2509.04664`)."
        )
    paper = await ctx.services.papers.paper_by_id(paper_id)
    if paper is None and normalize_arxiv_id(paper_id):
        paper = await _from_arxiv(ctx, paper_id)
    if paper is None:
        raise UserError(f"paperwire has not seen {paper_id}: only papers it knows can be saved.")
    return paper


async def _from_arxiv(ctx: Context, arxiv_id: str) -> Paper | None:
    """A paper not in the corpus yet, asked of arXiv's API (and kept, as any ingest)."""
    try:
        await ingest_arxiv_ids(ctx.services, ctx.services.http, [arxiv_id])
    except (HttpError, SourceError) as exc:
        _log.warning("arXiv lookup of %s failed: %s", arxiv_id, exc)
        raise UserError(
            f"arXiv did not answer about {arxiv_id} just now; try again later."
        ) from None
    paper = await ctx.services.papers.paper_by_id(arxiv_id)
    if paper is None:
        raise UserError(f"arXiv knows no paper {arxiv_id}.")
    return paper


@_privately
async def saved(ctx: Context, args: str) -> Reply:
    action, _, rest = args.strip().partition(" ")
    rest = rest.strip()
    match action.lower():
        case "remove" | "rm" | "delete":
            return await _remove(ctx, rest)
        case "tag":
            return await _tag(ctx, rest)
        case "search" | "find":
            return await _search(ctx, rest)
        case "export":
            return await _export(ctx, rest)
        case "--tag":
            tag, _, page = rest.partition(" ")
            return await _list(ctx, page.strip(), _clean_tag(tag))
        case _:
            return await _list(ctx, args.strip(), None)


async def _mine(ctx: Context, tag: str | None = None) -> list[SavedPaper]:
    return await ctx.services.saved_papers.saved_papers(owner(ctx), tag=tag)


async def _papers(ctx: Context, entries: list[SavedPaper]) -> list[Paper]:
    found = await ctx.services.papers.papers_by_pk([e.paper_pk for e in entries])
    return [found[e.paper_pk] for e in entries if e.paper_pk in found]


async def _list(ctx: Context, page_text: str, tag: str | None) -> Reply:
    if page_text and not page_text.isdecimal():
        raise UserError(SAVED_USAGE)
    page = int(page_text) if page_text else 1
    mine = await _mine(ctx)
    # Numbers are places in the whole list, tagged or not: `remove` and `tag` take them.
    shown = [i for i, entry in enumerate(mine) if tag is None or tag in entry.tags]
    which = f" tagged “{tag}”" if tag else ""
    if not shown:
        if tag:
            return _private(f"No saved paper is tagged “{tag}”.")
        return _private("Your list is empty. `/papers save 2509.04664` saves a paper.")
    pages = (len(shown) + PAGE_SIZE - 1) // PAGE_SIZE
    if not 1 <= page <= pages:
        raise UserError(f"Your list{which} has {plural(pages, 'page')}; pick 1 to {pages}.")
    start = (page - 1) * PAGE_SIZE
    lines = await _lines(ctx, mine, shown[start : start + PAGE_SIZE])
    head = f"{plural(len(shown), 'paper')}{which}, newest first (page {page} of {pages}):"
    more = "\nNext: `/papers saved " + (f"--tag {tag} " if tag else "") + f"{page + 1}`"
    text = "\n".join([head, *lines]) + (more if page < pages else "")
    buttons = ListPages(page, pages, tag) if pages > 1 else None
    return Reply(Notice(text, title=TITLE, pages=buttons), private=True)


async def _lines(ctx: Context, mine: list[SavedPaper], numbers: Sequence[int]) -> list[str]:
    """Lines for the saved papers at `numbers` (0-based places in `mine`), numbered from 1."""
    chosen = [mine[i] for i in numbers]
    papers = {p.id: p for p in await _papers(ctx, chosen)}
    lines = []
    for i, entry in zip(numbers, chosen, strict=True):
        paper = papers.get(entry.paper_id)
        title = paper.title if paper else entry.paper_id
        tags = " · " + " ".join(f"#{t}" for t in entry.tags) if entry.tags else ""
        lines.append(f"{i + 1}. {title} · {entry.paper_id} · saved {entry.saved_at:%Y-%m-%d}{tags}")
    return lines


def _pick(mine: list[SavedPaper], which: str) -> SavedPaper:
    """A saved paper by its number in the list, or by its id (arXiv id, URL, DOI)."""
    which = which.strip().lstrip("#")
    if not which:
        raise UserError(SAVED_USAGE)
    if which.isdecimal():
        number = int(which)
        if 1 <= number <= len(mine):
            return mine[number - 1]
        if not mine:
            raise UserError("Your list is empty.")
        raise UserError(f"Your list has {plural(len(mine), 'paper')}; pick 1 to {len(mine)}.")
    paper_id = paper_id_from(which) or which
    for entry in mine:
        if entry.paper_id == paper_id:
            return entry
    raise UserError(f"{paper_id[:100]} is not in your list. `/papers saved` shows it.")


async def _remove(ctx: Context, which: str) -> Reply:
    entry = _pick(await _mine(ctx), which)
    await ctx.services.saved_papers.remove_saved(owner(ctx), entry.paper_pk)
    return _private(f"Removed {entry.paper_id} from your list.")


def _clean_tag(tag: str) -> str:
    tag = tag.strip().lstrip("#").casefold()
    if not TAG.fullmatch(tag):
        raise UserError(
            "A tag is one word of up to 40 letters, digits, `-`, `_`, `.` or `+` (e.g. `to-read`)."
        )
    return tag


async def _tag(ctx: Context, rest: str) -> Reply:
    which, _, tag = rest.partition(" ")
    if not tag.strip():
        raise UserError("Use `/papers saved tag <n> <tag>`, e.g. `/papers saved tag 2 to-read`.")
    clean = _clean_tag(tag)
    entry = _pick(await _mine(ctx), which)
    await ctx.services.saved_papers.tag_saved(owner(ctx), entry.paper_pk, clean)
    return _private(f"Tagged {entry.paper_id} “{clean}”.")


async def _search(ctx: Context, query: str) -> Reply:
    words = normalize_title(query).split()
    if not words:
        raise UserError("Say what to look for: `/papers saved search diffusion`.")
    mine = await _mine(ctx)
    papers = {p.id: p for p in await _papers(ctx, mine)}
    found = []
    for i, entry in enumerate(mine):
        paper = papers.get(entry.paper_id)
        text = set(normalize_title(f"{paper.title} {paper.abstract}").split()) if paper else set()
        if all(word in text for word in words):
            found.append(i)
    if not found:
        return _private(f"No saved paper matches “{query.strip()[:100]}”.")
    lines = await _lines(ctx, mine, found[:PAGE_SIZE])  # numbered as in the whole list
    more = f"\n… and {len(found) - PAGE_SIZE} more." if len(found) > PAGE_SIZE else ""
    head = f"{plural(len(found), 'saved paper')} match “{query.strip()[:100]}”:"
    return _private("\n".join([head, *lines]) + more)


async def _export(ctx: Context, rest: str) -> Reply:
    words = rest.split()
    format: ExportFormat = "bibtex"
    tag = None
    while words:
        word = words.pop(0)
        if word.lower() in FORMATS:
            format = "bibtex" if word.lower() == "bibtex" else "ris"
        elif word.lower() == "--tag" and words:
            tag = _clean_tag(words.pop(0))
        else:
            raise UserError("Use `/papers saved export [bibtex|ris] [--tag <tag>]`.")
    papers = await _papers(ctx, await _mine(ctx, tag))
    if not papers:
        which = f" tagged “{tag}”" if tag else ""
        return _private(f"No saved paper{which} to export.")
    # The file goes whatever its length (no code block: the file is what a reference
    # manager imports, and a copy in chat would be escaped for the platform). Its size is
    # checked on the bytes sent, before anything is queued.
    data = export(papers, format).encode("utf-8")
    name = f"{EXPORT_NAME}-{tag}" if tag else EXPORT_NAME
    name = f"{name}.{EXTENSIONS[format]}"
    count = plural(len(papers), "entry", "entries")
    if len(data) > MAX_FILE_BYTES:
        raise UserError(
            f"{name} would be {size_text(len(data))} ({count}), over the"
            f" {size_text(MAX_FILE_BYTES)} a file can be here; `--tag <tag>` exports fewer."
        )
    title = f"Your reading list{f' tagged “{tag}”' if tag else ''} ({FORMAT_NAMES[format]})"
    file = Attachment(name, data, MIME_TYPES[format], title=title)
    text = f"{name}: {count} ({FORMAT_NAMES[format]}, {size_text(len(data))})."
    return Reply(Notice(text, title=TITLE), private=True, files=(file,))
