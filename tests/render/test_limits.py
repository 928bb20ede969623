import pytest

from bot.render import limits
from bot.render.limits import ELLIPSIS, shorten


def test_text_that_fits_is_unchanged() -> None:
    assert shorten("short text", 10) == "short text"
    assert shorten("", 5) == ""


def test_cuts_at_a_word_boundary_and_ends_with_ellipsis() -> None:
    out = shorten("the quick brown fox jumps over the lazy dog", 20)
    assert out == "the quick brown fox…"
    assert len(out) <= 20


def test_does_not_leave_dangling_punctuation_or_space() -> None:
    assert shorten("alpha, beta gamma delta", 12) == "alpha, beta…"
    assert shorten("alpha beta; gamma delta", 12) == "alpha beta…"


def test_single_huge_word_is_cut_inside_the_word() -> None:
    word = "x" * 5000
    out = shorten(word, 256)
    assert len(out) == 256
    assert out == "x" * 255 + ELLIPSIS


def test_prefers_a_hard_cut_to_losing_most_of_the_room() -> None:
    # The only space is near the start: cutting there would keep 2 of 50 characters.
    out = shorten("ab " + "c" * 100, 50)
    assert len(out) == 50
    assert out.startswith("ab c")


@pytest.mark.parametrize("limit", [0, -3])
def test_no_room_gives_empty(limit: int) -> None:
    assert shorten("anything", limit) == ""


def test_limit_of_one_is_just_the_ellipsis() -> None:
    assert shorten("anything", 1) == ELLIPSIS


@pytest.mark.parametrize("limit", range(1, 60))
def test_never_exceeds_limit(limit: int) -> None:
    text = "Große Sprachmodelle — 大型语言模型 😀 are really, really large " * 3
    out = shorten(text, limit)
    assert len(out) <= limit
    assert out == text or out.endswith(ELLIPSIS)


def test_counts_python_characters_not_bytes() -> None:
    text = "é" * 10
    assert shorten(text, 10) == text  # 20 bytes in UTF-8, 10 characters


def test_platform_limits_match_the_documented_numbers() -> None:
    assert (limits.SLACK_MAX_BLOCKS, limits.SLACK_SECTION_TEXT, limits.SLACK_HEADER_TEXT) == (
        50,
        3000,
        150,
    )
    assert (limits.SLACK_CONTEXT_ELEMENTS, limits.SLACK_BUTTON_TEXT) == (10, 75)
    assert (limits.SLACK_SECTION_FIELDS, limits.SLACK_FIELD_TEXT) == (10, 2000)
    assert (limits.DISCORD_CONTENT, limits.DISCORD_EMBEDS_PER_MESSAGE) == (2000, 10)
    assert (limits.DISCORD_EMBEDS_TOTAL, limits.DISCORD_TITLE) == (6000, 256)
    assert (limits.DISCORD_DESCRIPTION, limits.DISCORD_FIELDS) == (4096, 25)
    assert (limits.DISCORD_FIELD_NAME, limits.DISCORD_FIELD_VALUE) == (256, 1024)
    assert (limits.DISCORD_FOOTER, limits.DISCORD_AUTHOR) == (2048, 256)
