from datetime import date

import pytest

from bot.errors import UserError
from bot.search.query import (
    MAX_QUERY_CHARS,
    AnyOf,
    Author,
    Category,
    Prefix,
    Query,
    Term,
    parse,
)


def test_words_are_stemmed_required_terms() -> None:
    assert parse("Hallucinating Models") == Query(required=(Term(("hallucin",)), Term(("model",))))


def test_phrases_prefixes_exclusions_and_or() -> None:
    q = parse('"large language model" transform* -survey -"tool use" a OR b')
    assert q.required == (
        Term(("larg", "languag", "model")),
        Prefix("transform"),
        AnyOf((Term(("a",)), Term(("b",)))),
    )
    assert q.excluded == (Term(("survey",)), Term(("tool", "use")))


def test_filters() -> None:
    q = parse('author:"Yann LeCun" cat:cs.CL since:2026-07-01 until:2026-07-31 vision')
    assert q.required == (Author(("yann", "lecun")), Category("cs.cl"), Term(("vision",)))
    assert (q.since, q.until) == (date(2026, 7, 1), date(2026, 7, 31))


@pytest.mark.parametrize(
    ("raw", "required"),
    [
        ("C++", (Term(("c",)),)),
        ("AND", ()),
        ("NEAR(", (Term(("near",)),)),
        ("-x", ()),
        ('"unbalanced', (Term(("unbalanc",)),)),
        ("title:x", (Term(("titl",)), Term(("x",)))),
        ("😀🔥", ()),
        ("", ()),
        ("state-of-the-art", (Term(("state", "of", "the", "art")),)),
        ("a*", (Term(("a",)),)),  # a one-letter prefix would match everything
        ("OR OR", ()),
        ("'; DROP TABLE papers; --", (Term(("drop",)), Term(("tabl",)), Term(("paper",)))),
    ],
)
def test_hostile_text_parses_without_raising(raw: str, required: tuple[object, ...]) -> None:
    assert parse(raw).required == required


def test_oversized_queries_get_a_clear_message() -> None:
    with pytest.raises(UserError, match="characters long"):
        parse("x" * 10_240)
    with pytest.raises(UserError, match="too many parts"):
        parse(" ".join(f"w{i}" for i in range(60))[:MAX_QUERY_CHARS])


def test_bad_dates_and_inverted_ranges_are_explained() -> None:
    with pytest.raises(UserError, match="takes a date like 2026-07-01"):
        parse("since:yesterday")
    with pytest.raises(UserError, match="swap them"):
        parse("since:2026-08-01 until:2026-07-01")
