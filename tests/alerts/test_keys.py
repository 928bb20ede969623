"""How a topic's anchor is picked: the rarest key, by how often each occurs in papers seen."""

from __future__ import annotations

from bot.alerts.keys import DocFrequencies
from bot.alerts.matching import Topic, TopicIndex
from bot.search.query import parse


def test_frequencies_pick_the_rarest_word() -> None:
    doc_freq = DocFrequencies(papers=100, stems={"model": 90, "diffus": 5, "video": 20})
    index = TopicIndex([Topic(1, parse("model diffusion video"))], doc_freq=doc_freq)
    assert index.anchors_of(1) == ("diffus",)
    unseen = TopicIndex([Topic(1, parse("model zebra"))], doc_freq=doc_freq)
    assert unseen.anchors_of(1) == ("zebra",)


def test_frequencies_price_a_prefix_by_the_words_it_starts() -> None:
    doc_freq = DocFrequencies(papers=100, stems={"transform": 30, "transfer": 5, "model": 90})
    index = TopicIndex(
        [Topic(1, parse("transf* model")), Topic(2, parse("transf* zebra"))], doc_freq=doc_freq
    )
    assert index.anchors_of(1) == ("*transf",)
    assert index.anchors_of(2) == ("zebra",)
