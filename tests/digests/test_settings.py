"""Reading "HH:MM Zone", the one parser the digest, alert and webhook settings share."""

from __future__ import annotations

from datetime import time

import pytest

from bot.digests.settings import DigestSettings, When, parse_when
from bot.errors import UserError
from bot.models import Destination

CHANNEL = DigestSettings(Destination("console", "local", "general"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("08:30", When(time(8, 30))),
        ("europe/paris", When(zone="Europe/Paris")),
        ("08:30 Europe/Paris", When(time(8, 30), "Europe/Paris")),
        ("Asia/Tokyo 5pm", When(time(17, 0), "Asia/Tokyo")),
        ("", When()),
    ],
)
def test_a_time_a_zone_or_both_in_either_order(text: str, expected: When) -> None:
    assert parse_when(text) == expected


@pytest.mark.parametrize("text", ["08:30 09:30", "UTC Europe/Paris", "25:00", "Mars/Olympus"])
def test_two_of_a_kind_or_a_bad_one_is_explained(text: str) -> None:
    with pytest.raises(UserError):
        parse_when(text)


def test_only_what_was_given_changes() -> None:
    start = parse_when("07:15 America/New_York").apply(CHANNEL)
    assert (start.time, start.timezone) == (time(7, 15), "America/New_York")
    moved = parse_when("Europe/Paris").apply(start)
    assert (moved.time, moved.timezone) == (time(7, 15), "Europe/Paris")
