import asyncio
import inspect

from bot.in_flight import InFlight


async def test_finish_waits_for_a_request_within_the_grace() -> None:
    requests = InFlight()
    release = asyncio.Event()
    answered = []

    @requests.tracked
    async def handler(ack: str, body: dict[str, str]) -> None:
        await release.wait()
        answered.append(body["text"])

    task = asyncio.create_task(handler(ack="ack", body={"text": "help"}))
    await asyncio.sleep(0)  # it starts, and waits
    finishing = asyncio.create_task(requests.finish(grace_s=30))
    await asyncio.sleep(0)
    assert not finishing.done()  # waiting for it
    release.set()
    await finishing
    assert answered == ["help"] and not task.cancelled()


async def test_finish_does_not_cancel_and_cancel_does() -> None:
    requests = InFlight()
    never = asyncio.Event()
    task = asyncio.create_task(requests.tracked(never.wait)())
    await asyncio.sleep(0)
    await requests.finish(grace_s=0.01)
    assert not task.done()
    await requests.cancel()
    assert task.cancelled()


async def test_nothing_to_wait_for_once_requests_are_answered() -> None:
    requests = InFlight()

    async def quick() -> int:
        return 1

    assert await requests.tracked(quick)() == 1
    async with asyncio.timeout(1):
        await requests.finish(grace_s=3600)  # returns at once
        await requests.cancel(wait_s=3600)


def test_a_tracked_handler_shows_its_arguments_to_slack_bolt() -> None:
    async def on_command(ack: object, body: dict[str, object]) -> None: ...

    tracked = InFlight().tracked(on_command)
    # slack-bolt reads the argument names this way to know what to pass.
    assert inspect.getfullargspec(inspect.unwrap(tracked)).args == ["ack", "body"]


async def test_a_request_starting_after_the_cancel_ends_at_once() -> None:
    """A platform's receiver may still dispatch while its close waits: the database is
    about to close, so the handler must not run."""
    requests = InFlight()
    await requests.cancel()
    ran = []

    async def handler() -> None:
        ran.append(1)

    task = asyncio.create_task(requests.tracked(handler)())
    await asyncio.wait({task})
    assert task.cancelled() and ran == []
