from datetime import UTC, datetime

from bot.storage import Storage
from tests.conftest import NOW, make_observation


async def test_sent_papers_are_remembered_per_destination(
    storage: Storage,
) -> None:
    await storage.papers.ingest([make_observation(arxiv_id="2607.00001")])
    await storage.outbox.enqueue("slack:T:C1", "{}", ["2607.00001", "unknown"], datetime.now(UTC))
    assert await storage.outbox.sent_paper_ids("slack:T:C1") == frozenset({"2607.00001"})
    assert await storage.outbox.sent_paper_ids("slack:T:C2") == frozenset()


async def test_destinations_whose_message_may_have_arrived_are_sent_to_first(
    storage: Storage,
) -> None:
    ids = [await storage.outbox.enqueue(f"slack:T1:C{n}", '"x"', (), NOW) for n in range(3)]
    await storage.outbox.mark_sending(ids[2])  # a crash left its request out
    assert await storage.outbox.due_destinations(NOW) == [
        "slack:T1:C2",
        "slack:T1:C0",
        "slack:T1:C1",
    ]
