"""The search index: tantivy (BM25 with block-max pruning) over titles and abstracts.

SQLite stays the source of truth. The index holds only what ranking needs and the paper's
internal key; it follows the store's change sequence (`papers.seq`) and can always be
rebuilt from the store. Text for snippets is read back from the store for the few hits shown.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import tantivy

from bot.private_files import FOLDER_MODE, narrow, private_folder
from bot.search.analysis import fold
from bot.search.query import AnyOf, Author, Category, Clause, Prefix, Query, Term
from bot.storage import IndexRow, Papers
from bot.storage.locations import is_postgres_url

_log = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # 2: `day` holds every day a paper trended, not only its latest
TITLE_BOOST = 2.5
# Split between the two indexing threads; below ~128 MB each, flushes dominate.
WRITER_HEAP = 256_000_000
# A stop waits this long for a commit under way (the stop's own deadline bounds the process).
COMMIT_WAIT_S = 2.0
_META_FILE = "paperwire-index.json"
_EPOCH = date(1970, 1, 1)


_NAMES = "pw_names"


def _names_analyzer() -> Any:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def _build_schema() -> Any:
    # Titles and abstracts use the built-in `en_stem` (simple tokenizer, lowercase, English
    # Snowball stemmer): ~8% faster than a custom chain; their rare accents are folded in
    # Python. Names, often accented, fold in tantivy.
    builder = tantivy.SchemaBuilder()
    # Signed: tantivy-py turns a Python int into an i64 term, so deletes match only then.
    builder.add_integer_field("pk", stored=True, indexed=True, fast=True)
    builder.add_text_field("title", tokenizer_name="en_stem", index_option="position")
    builder.add_text_field("abstract", tokenizer_name="en_stem", index_option="position")
    builder.add_text_field("authors", tokenizer_name=_NAMES, index_option="position")
    builder.add_text_field("categories", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("day", indexed=True, fast=True)
    return builder.build()


Mode = Literal["all", "any"]


@dataclass(frozen=True)
class RawHit:
    pk: int
    score: float


class SearchIndex:
    """Build with `SearchIndex.open(path)` (a directory, or None for memory only)."""

    def __init__(self, index: Any, schema: Any, path: Path | None, last_seq: int, max_pk: int):
        self._index = index
        self._schema = schema
        self._path = path
        self.last_seq = last_seq
        self._max_pk = max_pk
        self._lock = asyncio.Lock()

    @classmethod
    def open(cls, path: Path | None) -> SearchIndex:
        """Open the index at `path`, starting empty when it is missing, of another schema
        version, or unreadable (it is rebuilt from the store by `sync`)."""
        schema = _build_schema()
        meta = {"schema": SCHEMA_VERSION, "last_seq": 0, "max_pk": 0}
        if path is None:
            index = tantivy.Index(schema)
        else:
            meta_path = path / _META_FILE
            try:
                stored = json.loads(meta_path.read_text())
                if stored.get("schema") != SCHEMA_VERSION:
                    raise ValueError("schema version changed")
                index = tantivy.Index(schema, path=str(path), reuse=True)
                meta = stored
                narrow(path, FOLDER_MODE)  # made by an older paperwire
            except (OSError, ValueError) as exc:
                if path.exists():
                    _log.warning("rebuilding the search index at %s (%s)", path, exc)
                    shutil.rmtree(path, ignore_errors=True)
                # Paper data, not secrets, but private like the database beside it.
                private_folder(path, narrow_existing=True)
                index = tantivy.Index(schema, path=str(path), reuse=False)
        index.register_tokenizer(_NAMES, _names_analyzer())  # not persisted: every open
        return cls(index, schema, path, int(meta["last_seq"]), int(meta["max_pk"]))

    # --- keeping up with the store ------------------------------------------------------

    async def sync(
        self, papers: Papers, batch: int = 5000, follow_until: asyncio.Event | None = None
    ) -> int:
        """Index every paper the store changed since the last sync; returns how many.
        With `follow_until`, keep indexing changes as they land until that event is set, so
        a bulk load and its indexing overlap. Another process holding the index's writer is
        not an error: that process keeps the index current."""
        async with self._lock:
            if follow_until is None and await papers.max_seq() <= self.last_seq:
                return 0
            try:
                writer = self._index.writer(heap_size=WRITER_HEAP, num_threads=2)
            except ValueError as exc:  # tantivy reports a held lock this way
                _log.info("search index busy in another process, not syncing: %s", exc)
                return 0
            indexed = 0
            start = (self.last_seq, self._max_pk)
            try:
                while True:
                    changes = await papers.changes_since(self.last_seq, batch)
                    if changes:
                        # Inline, not in a thread: tantivy indexes on its own threads, and
                        # the Python part is best kept off a second GIL-bound thread.
                        self._add_batch(writer, changes)
                        indexed += len(changes)
                        self.last_seq = changes[-1].seq
                        self._max_pk = max(self._max_pk, max(c.pk for c in changes))
                    elif follow_until is None or follow_until.is_set():
                        break
                    else:
                        await papers.wait_for_change(follow_until)
                # The highest key first: a commit that lands without its meta (a stop, a
                # crash) leaves papers the next sync adds again; this way it deletes them first.
                self._write_meta(last_seq=start[0])
            except BaseException:
                writer.rollback()
                self.last_seq, self._max_pk = start
                raise
            await self._commit(writer, start)
            self._write_meta()
            self._index.reload()
            return indexed

    async def _commit(self, writer: Any, start: tuple[int, int]) -> None:
        """Commit in a thread. A cancel (a stop) lets a commit under way finish, for up to
        COMMIT_WAIT_S: the thread holds the writer meanwhile, so rolling back would fail
        ("Already borrowed") and hide the cancel."""
        committing = asyncio.ensure_future(asyncio.to_thread(_commit_and_merge, writer))
        committing.add_done_callback(_taken)
        try:
            await asyncio.shield(committing)
        except asyncio.CancelledError:
            await asyncio.wait({committing}, timeout=COMMIT_WAIT_S)
            if committing.done() and committing.exception() is None:
                self._write_meta()
                self._index.reload()
            else:  # still committing (or failed): indexed again next time
                self.last_seq, self._max_pk = start
            raise
        except BaseException:
            writer.rollback()  # the thread is done with it
            self.last_seq, self._max_pk = start
            raise

    def _add_batch(self, writer: Any, rows: Sequence[IndexRow]) -> None:
        for row in rows:
            if row.pk <= self._max_pk:
                writer.delete_documents_by_term("pk", row.pk)
            writer.add_document(tantivy.Document.from_dict(self._fields(row), self._schema))

    @staticmethod
    def _fields(row: IndexRow) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "pk": row.pk,
            "title": _ascii(row.title),
            "abstract": _ascii(row.abstract),
            "authors": list(row.authors),
            "categories": [fold(c) for c in row.categories],
        }
        if row.days:
            # Multi-valued: a date range matches a paper when any of its days is inside.
            fields["day"] = [(day - _EPOCH).days for day in row.days]
        return fields

    def _write_meta(self, last_seq: int | None = None) -> None:
        if self._path is None:
            return
        seq = self.last_seq if last_seq is None else last_seq
        meta = {"schema": SCHEMA_VERSION, "last_seq": seq, "max_pk": self._max_pk}
        tmp = self._path / (_META_FILE + ".tmp")
        tmp.write_text(json.dumps(meta))
        tmp.replace(self._path / _META_FILE)

    # --- searching ------------------------------------------------------------------------

    def num_docs(self) -> int:
        return int(self._index.searcher().num_docs)

    def doc_freqs_snapshot(self) -> tuple[int, Callable[[Iterable[str]], dict[str, int]]]:
        """The number of papers now, and how many of them have each (stemmed) term, read
        from the index as it is now (one searcher, kept until dropped) whatever is indexed
        after: in the title or the abstract, the larger of the two counts (papers are not
        double counted; a word only in some titles is slightly undercounted)."""
        searcher = self._index.searcher()
        return int(searcher.num_docs), lambda terms: _doc_freqs(searcher, terms)

    def search(self, query: Query, limit: int, offset: int = 0, mode: Mode = "all") -> list[RawHit]:
        """The best `limit` hits after `offset`, best first. In "all" mode every required
        clause must match; in "any" mode one is enough and more rank higher."""
        searcher = self._index.searcher()
        result = searcher.search(self.compile(query, mode), limit=limit, offset=offset)
        return [
            RawHit(int(searcher.doc(address)["pk"][0]), float(score))
            for score, address in result.hits
        ]

    def compile(self, query: Query, mode: Mode = "all") -> Any:
        """The parsed query as a tantivy query, kept as flat as possible: a union of plain
        term queries is what tantivy ranks with block-max pruning, without scoring every
        paper that has a common word."""
        filters = [(tantivy.Occur.MustNot, self._clause(c)) for c in query.excluded]
        if query.since or query.until:
            filters.append((tantivy.Occur.Must, self._day_range(query.since, query.until)))
        if mode == "any":
            clauses = [
                (tantivy.Occur.Should, part)
                for clause in query.required
                for part in self._parts(clause)
            ]
        elif len(query.required) == 1 and not filters:
            return self._clause(query.required[0])
        else:
            clauses = [(tantivy.Occur.Must, self._clause(c)) for c in query.required]
        return tantivy.Query.boolean_query(clauses + filters)

    def _parts(self, clause: Clause) -> list[Any]:
        """A clause as alternatives of a union (a word: its title and its abstract term)."""
        if isinstance(clause, Term) and not clause.is_phrase:
            word = clause.stems[0]
            return self._field_pair(
                lambda field: tantivy.Query.term_query(self._schema, field, word)
            )
        return [self._clause(clause)]

    def _clause(self, clause: Clause) -> Any:
        if isinstance(clause, Term):
            return self._either_field(lambda field: self._term_or_phrase(field, clause.stems))
        if isinstance(clause, Prefix):
            pattern = re.escape(clause.prefix) + ".*"
            return self._either_field(
                lambda field: tantivy.Query.regex_query(self._schema, field, pattern)
            )
        if isinstance(clause, Author):
            return self._term_or_phrase("authors", clause.words)
        if isinstance(clause, Category):
            exact = tantivy.Query.term_query(self._schema, "categories", clause.name)
            family = tantivy.Query.regex_query(
                self._schema, "categories", re.escape(clause.name) + r"\..*"
            )
            return _any_of([exact, family])
        if isinstance(clause, AnyOf):
            return _any_of([self._clause(option) for option in clause.options])
        raise TypeError(clause)

    def _either_field(self, build: Any) -> Any:
        return _any_of(self._field_pair(build))

    def _field_pair(self, build: Any) -> list[Any]:
        return [tantivy.Query.boost_query(build("title"), TITLE_BOOST), build("abstract")]

    def _term_or_phrase(self, field: str, terms: Sequence[str]) -> Any:
        if len(terms) == 1:
            return tantivy.Query.term_query(self._schema, field, terms[0])
        return tantivy.Query.phrase_query(self._schema, field, list(terms))

    def _day_range(self, since: date | None, until: date | None) -> Any:
        return tantivy.Query.range_query(
            self._schema,
            "day",
            tantivy.FieldType.Integer,
            (since - _EPOCH).days if since else None,
            (until - _EPOCH).days if until else None,
        )


def _commit_and_merge(writer: Any) -> None:
    writer.commit()
    writer.wait_merging_threads()


def _taken(committing: asyncio.Future[None]) -> None:
    """Take a commit's outcome, so that one nobody awaits any more (after a stop) is not
    logged as never retrieved."""
    if not committing.cancelled():
        committing.exception()


def _ascii(text: str) -> str:
    return text if text.isascii() else fold(text)


def _any_of(queries: list[Any]) -> Any:
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])


def index_path_for(db_path: str) -> Path | None:
    """Where the index of the SQLite database at `db_path` lives (beside it); None (in
    memory, rebuilt from the database at start) for a memory or PostgreSQL database."""
    if db_path == ":memory:" or is_postgres_url(db_path):
        return None
    return Path(db_path + ".index")


def _doc_freqs(searcher: Any, terms: Iterable[str]) -> dict[str, int]:
    return {
        term: max(searcher.doc_freq("title", term), searcher.doc_freq("abstract", term))
        for term in terms
    }
