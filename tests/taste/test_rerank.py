"""The channel profile and the re-ranking, as pure functions of the votes, the corpus's word
rarity and the day's candidates (in trending order)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from bot.models import Paper
from bot.taste.profile import ChannelProfile, build_profile
from bot.taste.rerank import TOPIC_REASON, rerank
from bot.taste.vectors import CachedFreqs, CountedFreqs, DocFreqs

ROBOT = (
    "A robot arm learns grasping and manipulation from a few demonstrations; the policy"
    " transfers from simulation to a real robot with tactile sensing."
)
DIFFUSION = (
    "We train a latent diffusion model for image generation; denoising steps are distilled"
    " so that sampling a picture takes four steps."
)
LANGUAGE = (
    "A large language model is fine-tuned on instructions; we evaluate its reasoning on"
    " arithmetic word problems and report accuracy on several benchmarks."
)
SPEECH = "Speech recognition with a streaming audio encoder; word error rate falls on accents."


def papers(prefix: str, title: str, abstract: str, n: int) -> list[Paper]:
    return [Paper(id=f"{prefix}{i}", title=f"{title} {i}", abstract=abstract) for i in range(n)]


# Papers the channels voted on (earlier days), and the day's candidates in trending order.
PAST_ROBOTS = papers("pr", "Dexterous robot grasping policies", ROBOT, 4)
PAST_DIFFUSION = papers("pd", "Faster latent diffusion sampling", DIFFUSION, 4)
LANGUAGE_TODAY = papers("l", "Instruction tuning for reasoning", LANGUAGE, 8)
DIFFUSION_TODAY = papers("d", "Distilled diffusion for images", DIFFUSION, 4)
ROBOTS_TODAY = papers("r", "Robot manipulation with touch", ROBOT, 2)
SPEECH_TODAY = papers("s", "Streaming speech recognition", SPEECH, 3)
PAST = [*PAST_ROBOTS, *PAST_DIFFUSION]
CORPUS = CountedFreqs([*PAST, *LANGUAGE_TODAY, *DIFFUSION_TODAY, *ROBOTS_TODAY, *SPEECH_TODAY])


def profile(
    liked: Sequence[Paper] = (),
    disliked: Sequence[Paper] = (),
    topic: str | None = None,
    freqs: DocFreqs = CORPUS,
) -> ChannelProfile:
    return build_profile(liked, disliked, freqs, votes=len(liked) + len(disliked), topic=topic)


def ids(ranked: Sequence[Paper]) -> list[str]:
    return [p.id for p in ranked]


def test_papers_like_the_liked_ones_rise_and_say_why() -> None:
    candidates = [*LANGUAGE_TODAY, *DIFFUSION_TODAY, *ROBOTS_TODAY]  # robots trend last
    plain = rerank(candidates, profile(), 5)
    assert ids(plain.papers) == ids(candidates[:5]) and plain.reasons == (None,) * 5
    ranked = rerank(candidates, profile(liked=PAST_ROBOTS), 5)
    assert ids(ranked.papers)[:2] == ["r0", "r1"]
    assert ranked.reasons[:2] == ("like 4 papers this channel liked",) * 2
    # The trending ones kept are where trending put them or lower: no reason.
    assert ranked.reasons[2:] == (None,) * 3


def test_papers_like_the_turned_down_ones_fall() -> None:
    candidates = [*DIFFUSION_TODAY, *LANGUAGE_TODAY, *SPEECH_TODAY]  # diffusion trends first
    ranked = rerank(candidates, profile(disliked=PAST_DIFFUSION), 10)
    places = {paper.id: place for place, paper in enumerate(ranked.papers)}
    diffusion_kept = [pid for pid in places if pid.startswith("d")]
    # Down to the bottom, yet two of the day's top 10 (here, top 4) stay.
    assert len(diffusion_kept) <= 2
    assert all(places[pid] >= len(ranked.papers) - 2 for pid in diffusion_kept)
    assert len(ranked.papers) == 10


def test_at_least_two_of_the_days_top_ten_stay() -> None:
    pulse = papers("t", "Instruction tuning for reasoning", LANGUAGE, 10)
    candidates = [*pulse, *papers("rr", "Robot manipulation with touch", ROBOT, 15)]
    freqs = CountedFreqs([*candidates, *PAST_ROBOTS, *PAST_DIFFUSION])
    liked = profile(liked=PAST_ROBOTS, disliked=PAST_DIFFUSION, freqs=freqs)
    for limit in (1, 2, 5, 10):
        ranked = rerank(candidates, liked, limit)
        kept = [p for p in ranked.papers if p.id.startswith("t")]
        assert len(ranked.papers) == limit
        assert len(kept) == min(2, limit), (limit, ids(ranked.papers))
    # And the pulse it keeps is the best trending of it.
    assert ids(rerank(candidates, liked, 10).papers)[-2:] == ["t0", "t1"]


def test_a_channel_that_turns_everything_down_still_gets_a_full_digest() -> None:
    candidates = [*LANGUAGE_TODAY, *DIFFUSION_TODAY, *ROBOTS_TODAY, *SPEECH_TODAY]
    against = profile(disliked=[*PAST_DIFFUSION, *PAST_ROBOTS, *LANGUAGE_TODAY, *SPEECH_TODAY])
    assert against.votes == 19 and against.top_terms(5) == []
    ranked = rerank(candidates, against, 10)
    assert len(ranked.papers) == 10 and len(set(ids(ranked.papers))) == 10
    assert all(reason is None for reason in ranked.reasons)


def test_one_channels_votes_never_change_anothers_ranking() -> None:
    candidates = [*LANGUAGE_TODAY, *DIFFUSION_TODAY, *ROBOTS_TODAY]
    quiet = profile()
    before = rerank(candidates, quiet, 6)
    robots = profile(liked=PAST_ROBOTS)
    assert ids(rerank(candidates, robots, 6).papers) != ids(before.papers)
    # Same inputs, same order: nothing of the robot channel leaks into the quiet one.
    assert rerank(candidates, quiet, 6) == before
    assert rerank(candidates, profile(topic="speech"), 6) == rerank(
        candidates, profile(topic="speech"), 6
    )


def test_a_topic_alone_is_the_first_profile() -> None:
    # Every candidate matched the topic (the digest filters by it); the ones about it rise.
    mentions = [
        Paper(id=f"m{i}", title=f"Instruction tuning {i}", abstract=f"{LANGUAGE} A robot too.")
        for i in range(6)
    ]
    candidates = [*mentions, *ROBOTS_TODAY]
    cold = profile(topic="robot* grasping")
    assert cold.votes == 0 and set(cold.top_terms(2)) == {"grasping", "robot"}
    ranked = rerank(candidates, cold, 4)
    # From 7th to 3rd, above the mentions that trend higher; the day's top two stay on top.
    assert ids(ranked.papers) == ["m0", "m1", "r0", "m2"]
    assert ranked.reasons == (None, None, TOPIC_REASON, None)
    assert rerank(candidates, profile(), 4).papers == tuple(candidates[:4])


def test_the_why_line_is_only_for_papers_taste_lifted() -> None:
    candidates = [*ROBOTS_TODAY, *LANGUAGE_TODAY, *DIFFUSION_TODAY]  # robots already first
    ranked = rerank(candidates, profile(liked=PAST_ROBOTS), 5)
    assert ids(ranked.papers)[:2] == ["r0", "r1"] and ranked.reasons[:2] == (None, None)
    plain_place = {p.id: i for i, p in enumerate(candidates)}
    for place, (paper, reason) in enumerate(zip(ranked.papers, ranked.reasons, strict=True)):
        if reason is not None:
            assert place < plain_place[paper.id]


def test_top_terms_are_words_people_write() -> None:
    liked = profile(liked=PAST_ROBOTS, topic="tactile")
    terms = liked.top_terms(8)
    assert len(terms) == 8 and "robot" in terms and "tactile" in terms
    text = " ".join(f"{p.title} {p.abstract}".lower() for p in PAST_ROBOTS)
    assert all(term in text for term in terms), terms  # "grasping", not the stem "grasp"
    assert liked.votes == 4


def test_one_channels_votes_do_not_change_anothers_ranking_through_shared_rarity() -> None:
    """The index's word rarity is shared by every channel's digest; what channel A liked is
    looked up first, before papers with its words arrive, and must not weigh differently
    in channel B's digest than if A had voted nothing."""
    base = papers("b", "Generic study", "We study models and data with methods.", 400)
    qwenix = Paper(id="q", title="Qwenix tokenizer", abstract="A qwenix tokenizer for models.")
    news = papers("n", "Qwenix agents", "Qwenix agents plan tools with models.", 18)
    tools = papers("o", "Tool planning agents", "Agents plan tools for tasks.", 6)
    corpus: list[Paper] = []

    def snapshot() -> tuple[int, Callable[[Iterable[str]], Mapping[str, int]]]:
        return len(corpus), CountedFreqs(list(corpus)).lookup

    def channel_b(a_liked: Sequence[Paper]) -> list[str]:
        corpus[:] = [*base, qwenix]
        freqs = CachedFreqs(lambda: len(corpus), snapshot)
        build_profile(a_liked, (), freqs, votes=len(a_liked))  # channel A's digest
        corpus.extend(news)  # +4.5%: the words' rarity is not read again
        b = build_profile(tools[:1], (), freqs, votes=1)
        return ids(rerank([*news[:8], *tools], b, 5).papers)

    assert channel_b([qwenix]) == channel_b([])
