"""The pacer keeps to a rate, lets a burst through, keeps each channel to its own rate,
and holds everyone back after a 429, all measured on a virtual clock."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.delivery.pacing import Bucket, Pacer, Places
from tests.virtual_time import VirtualTime


def _starts(time: VirtualTime, times: list[float]) -> list[float]:
    return [round(t - 1000.0, 3) for t in times]


async def _go(time: VirtualTime, acquire: object) -> float:
    await acquire()  # type: ignore[operator]
    return time.now


async def test_a_bucket_spaces_requests_at_its_rate() -> None:
    time = VirtualTime()
    bucket = Bucket(10, clock=time.clock, sleep=time.sleep)
    done = await time.run(*(_go(time, bucket.acquire) for _ in range(5)))
    assert _starts(time, done) == [0.0, 0.1, 0.2, 0.3, 0.4]


async def test_a_burst_goes_at_once_then_the_rate_holds() -> None:
    time = VirtualTime()
    bucket = Bucket(10, burst=3, clock=time.clock, sleep=time.sleep)
    done = await time.run(*(_go(time, bucket.acquire) for _ in range(6)))
    assert _starts(time, done) == [0.0, 0.0, 0.0, 0.1, 0.2, 0.3]


async def test_hold_keeps_back_requests_that_had_already_reserved_a_slot() -> None:
    time = VirtualTime()
    bucket = Bucket(2, clock=time.clock, sleep=time.sleep)

    async def server_says_wait() -> float:
        await time.sleep(0.1)  # the first request met a 429
        bucket.hold(3.0)
        return time.now

    done = await time.run(*(_go(time, bucket.acquire) for _ in range(3)), server_says_wait())
    # The first went at once; the two waiting (due at 0.5 and 1.0) go after the hold.
    first, second, third, _ = _starts(time, done)
    assert first == 0.0
    assert second >= 3.1 and third >= second + 0.5


async def test_each_channel_keeps_to_its_own_rate_while_others_go() -> None:
    time = VirtualTime()
    pacer = Pacer(10, per_channel=1.0, clock=time.clock, sleep=time.sleep)
    done = await time.run(
        _go(time, lambda: pacer.acquire("a")),
        _go(time, lambda: pacer.acquire("a")),
        _go(time, lambda: pacer.acquire("b")),
        _go(time, lambda: pacer.acquire("c")),
    )
    a1, a2, b, c = _starts(time, done)
    assert (a1, b, c) == (0.0, 0.1, 0.2)  # the workspace budget: 10 a second
    assert a2 == 1.0  # channel "a": one a second


@pytest.mark.parametrize("rate", [5, 50])
async def test_no_one_second_window_holds_more_than_the_rate(rate: int) -> None:
    time = VirtualTime()
    pacer = Pacer(rate, per_channel=1.0, clock=time.clock, sleep=time.sleep)
    # 100 channels of 4 requests each: the shared rate, not the channels', is the bound.
    done = await time.run(
        *(_go(time, lambda n=n: pacer.acquire(f"c{n % 100}")) for n in range(400))
    )
    done.sort()
    busiest = max(
        sum(1 for t in done[i:] if t < start + 1.0 - 1e-9) for i, start in enumerate(done)
    )
    assert busiest <= rate
    # And the budget is used: 400 requests take about 400 / rate seconds.
    assert done[-1] - done[0] == pytest.approx((400 - 1) / rate, rel=0.02)


def test_a_bucket_refuses_a_rate_it_cannot_keep() -> None:
    with pytest.raises(ValueError):
        Bucket(0)
    with pytest.raises(ValueError):
        Bucket(1, burst=0)


async def test_a_channel_is_spaced_from_when_its_request_went_not_when_it_was_due() -> None:
    time = VirtualTime()
    pacer = Pacer(2, per_channel=1.0, clock=time.clock, sleep=time.sleep)
    sent: list[float] = []

    async def one_channel_in_order() -> None:  # a digest and its thread replies
        for _ in range(3):
            await pacer.acquire("a")
            sent.append(time.now)

    others = (_go(time, lambda n=n: pacer.acquire(f"other{n}")) for n in range(6))
    await time.run(one_channel_in_order(), *others)
    # The shared budget kept "a" waiting; still, its requests are a second apart or more.
    assert all(later - earlier >= 1.0 - 1e-9 for earlier, later in itertools.pairwise(sent))
    assert sent[1] - sent[0] > 1.0  # (it did have to wait for the shared budget)


async def test_idle_channel_buckets_are_forgotten_past_the_limit() -> None:
    time = VirtualTime()
    pacer = Pacer(1000, per_channel=1.0, clock=time.clock, sleep=time.sleep)
    pacer.MAX_CHANNELS = 3
    for name in ("a", "b", "c"):
        await time.run(pacer.acquire(name))
    await time.run(time.sleep(2.0))  # all three idle now
    await time.run(pacer.acquire("d"), pacer.acquire("d"))
    assert set(pacer._channels) == {"d"}  # the idle ones went; "d" kept its spacing
    assert time.now == pytest.approx(1003.0, abs=0.01)  # d's second request waited 1 s


async def test_delay_says_how_long_a_request_would_wait_without_reserving() -> None:
    time = VirtualTime()
    bucket = Bucket(2, clock=time.clock, sleep=time.sleep)
    assert bucket.delay() == 0.0
    await time.run(bucket.acquire())
    assert bucket.delay() == pytest.approx(0.5)
    assert bucket.delay() == pytest.approx(0.5)  # asking reserved nothing
    bucket.hold(3.0)
    assert bucket.delay() == pytest.approx(3.0)


async def test_places_let_so_many_in_and_those_asking_first_go_before_the_others() -> None:
    places = Places(2)
    order: list[str] = []
    gate = asyncio.Event()

    async def hold(name: str, first: bool = False) -> None:
        async with places.taken(first):
            order.append(name)
            await gate.wait()

    holders = [asyncio.create_task(hold(n)) for n in ("a", "b")]
    waiters = [asyncio.create_task(hold("new")), asyncio.create_task(hold("settle", True))]
    cancelled = asyncio.create_task(hold("gone", True))
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == ["a", "b"]  # two places, both taken
    cancelled.cancel()  # one that stops waiting takes no place
    gate.set()
    await asyncio.gather(*holders, *waiters, cancelled, return_exceptions=True)
    assert order == ["a", "b", "settle", "new"]
