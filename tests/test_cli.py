"""End to end: the real `paperwire` command as subprocesses on a temporary database."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.storage import open_storage
from bot.storage.types import Installation
from tests.conftest import summary_total
from tests.fixture_files import FIXTURES, SAMPLES
from tests.payload_checks import check_discord_message, check_slack_message

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def run(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PAPERWIRE_DB": str(tmp_path / "p.db"),
        "TMPDIR": str(tmp_path),  # where the shell writes a reply's files
    }
    env.pop("SLACK_BOT_TOKEN", None)
    env.pop("DISCORD_BOT_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cli")
    result = run(tmp, "ingest", "seeds")
    assert result.returncode == 0, result.stderr
    # 317 entries: 223 papers, 94 entries of a paper listed on another page.
    assert result.stdout.strip() == "223 new, 0 updated, 94 unchanged, 0 skipped, 0 errors"
    return tmp


def test_demo_on_a_fresh_machine_shows_a_digest_a_search_and_next_steps(tmp_path: Path) -> None:
    started = time.monotonic()
    result = run(tmp_path, "demo")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30
    out = result.stdout
    assert "223 new" in out
    assert "Trending papers" in out and "2026" in out
    assert "1. " in out and "10. " in out
    assert "Sample search" in out and "Results 1\u20133 for" in out
    assert "Connect Slack" in out and "Connect Discord" in out
    # Run as `python -m bot`, with no `paperwire` on PATH: the steps say how to run it.
    assert f"{Path(sys.executable).name} -m bot shell" in out and " paperwire shell" not in out
    assert (tmp_path / "p.db").exists() and (tmp_path / "p.db.index").is_dir()


def test_reingest_reports_nothing_new(corpus: Path) -> None:
    result = run(corpus, "ingest", "seeds")
    assert result.stdout.strip() == "0 new, 0 updated, 317 unchanged, 0 skipped, 0 errors"


def test_search_json(corpus: Path) -> None:
    result = run(corpus, "search", "diffusion", "--limit", "3", "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert len(hits) == 3
    for hit in hits:
        assert {"id", "title", "url", "score", "snippet"} <= hit.keys()
        assert "diffus" in (hit["title"] + hit["snippet"]).lower()
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_search_with_nothing_to_search_is_a_clear_error(corpus: Path) -> None:
    result = run(corpus, "search", "--", "-x")
    assert result.returncode == 2
    assert "nothing to search for" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("platform", ["slack", "discord"])
def test_digest_json_bodies_are_valid_for_the_platform(corpus: Path, platform: str) -> None:
    result = run(
        corpus, "digest", "--json", "--format", platform, "--date", "2026-03-11", "--limit", "30"
    )
    assert result.returncode == 0, result.stderr
    bodies = json.loads(result.stdout)
    assert bodies
    for body in bodies:
        if platform == "slack":
            assert body["channel"] == "{channel}"
            check_slack_message(body)
        else:
            check_discord_message(body)
    text = json.dumps(bodies, ensure_ascii=False)
    assert "Towards a Unified Language Model" in text  # the day's first paper
    assert len(bodies) >= 2  # 30 papers do not fit in one message on either platform
    # As posted: with the buttons, and on Slack the abstracts in the digest's thread.
    assert "papers_abstract" in text or "pw:abstract:" in text
    assert platform == "discord" or bodies[-1]["thread_ts"] == "{ts}"


def test_digest_topic_filter_and_bad_date(corpus: Path) -> None:
    result = run(corpus, "digest", "--topic", "diffusion", "--date", "2026-05-09")
    assert result.returncode == 0, result.stderr
    assert "· topic: diffusion" in result.stdout
    assert "1. Controlling the Latent Diffusion Model" in result.stdout
    missing = run(corpus, "digest", "--date", "2026-01-01")
    assert missing.returncode == 2
    assert "No trending list for 2026-01-01" in missing.stderr


def test_shell_reads_commands_from_stdin(corpus: Path) -> None:
    script = "/papers help\n/papers search graph neural\n/papers nonsense\n/papers trending\n"
    result = run(corpus, "shell", stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "/papers search <query>" in out
    assert "for “graph neural”" in out
    assert "Unknown command `nonsense`" in out
    assert "Trending papers" in out


def test_help_documents_every_command(tmp_path: Path) -> None:
    result = run(tmp_path, "--help")
    for command in ("demo", "ingest", "search", "digest", "shell", "bench"):
        assert command in result.stdout
    assert "PAPERWIRE_DB" in result.stdout


def test_bench_search_prints_its_figures_as_json(tmp_path: Path) -> None:
    result = run(tmp_path, "bench", "search", "--papers", "300", "--queries", "30", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    keys = {"papers", "ingest_per_s", "p50_ms", "p99_ms", "like_p50_ms", "like_p99_ms", "rss_mb"}
    assert keys <= figures.keys()
    assert figures["papers"] == 300 and figures["ingest_per_s"] > 0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]


def test_status_lists_destinations_as_json(corpus: Path) -> None:
    result = run(corpus, "status", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "processes": [],  # no `paperwire run` is running
        "destinations": [],
        "queued": 0,
        "replies_queued": 0,
    }


def test_status_counts_waiting_replies_apart_from_destinations(tmp_path: Path) -> None:
    async def queue() -> None:
        async with open_storage(tmp_path / "p.db") as storage:
            at = datetime(2026, 11, 22, tzinfo=UTC)
            await storage.outbox.enqueue("slack:T1:C1!0a1b2c3d", '"x"', (), at, handle="{}")
            await storage.outbox.enqueue("slack:T1:C1", '"x"', (), at)

    asyncio.run(queue())
    figures = json.loads(run(tmp_path, "status", "--json").stdout)
    assert [d["destination"] for d in figures["destinations"]] == ["slack:T1:C1"]
    assert (figures["queued"], figures["replies_queued"]) == (1, 1)
    text = run(tmp_path, "status").stdout
    assert "command replies: 1 waiting" in text and "slack:T1:C1: ok · 1 queued" in text


def test_status_groups_destinations_by_workspace(tmp_path: Path) -> None:
    async def queue() -> None:
        async with open_storage(tmp_path / "p.db") as storage:
            at = datetime(2026, 11, 22, tzinfo=UTC)
            for key in ("slack:T2:C1", "slack:T1:C2", "slack:T1:C1", "slack:T1:@U1"):
                await storage.outbox.enqueue(key, '"x"', (), at)
            await storage.installations.save_installation(
                Installation("T2", "xoxb-2", "B2", "U2", at, team_name="Beta")
            )
            await storage.installations.uninstall("T2", at)
            await storage.installations.stop_workspace("T2", "app_uninstalled", at)

    asyncio.run(queue())
    lines = run(tmp_path, "status").stdout.splitlines()
    start = lines.index("workspace slack:T1: 3 destinations, 0 stopped, 3 queued")
    assert [line.split(":")[2] for line in lines[start + 1 : start + 4]] == ["@U1", "C1", "C2"]
    assert lines[start + 4] == (
        "workspace slack:T2 (Beta, uninstalled 2026-11-22): 1 destination, 1 stopped, 0 queued"
    )
    assert lines[start + 5].startswith("  slack:T2:C1: STOPPED · 0 queued")
    figures = json.loads(run(tmp_path, "status", "--json").stdout)
    assert {d["destination"]: d["workspace"] for d in figures["destinations"]}["slack:T1:C2"] == (
        "slack:T1"
    )


def test_console_channel_names_are_plain_words(tmp_path: Path) -> None:
    result = run(tmp_path, "digest", "--channel", "console:a!b", "--now")
    assert result.returncode == 2 and "not a console channel name" in result.stderr
    result = run(tmp_path, "shell", "--channel", "@me", stdin="help\n")
    assert result.returncode == 2 and "not a console channel name" in result.stderr


def test_ingest_arxiv_files_of_every_shape_account_for_every_item(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text(
        "<rss version='2.0'><channel><item><title>No id</title></item></channel></rss>"
    )
    page = tmp_path / "page.xml"
    page.write_text("<html><body>Service Unavailable</body></html>")
    files = [
        str(SAMPLES / "arxiv_rdf_cs_CL.xml"),  # 9 items
        str(SAMPLES / "arxiv_rss_affiliations.xml"),  # 8 items
        str(broken),  # 1 item, skipped
        str(page),  # not a feed: an error, no items
    ]
    result = run(tmp_path, "ingest", "arxiv", "--file", *files)
    assert result.returncode == 1
    assert result.stdout.strip() == "17 new, 0 updated, 0 unchanged, 1 skipped, 1 error"
    assert summary_total(result.stdout) == 18
    assert "skipped broken.xml item 1: no arXiv id" in result.stderr
    assert "page.xml: not an arXiv feed: the root element is <html>" in result.stderr
    assert "arXiv API" not in result.stderr


def test_ingest_biorxiv_pages_from_files(tmp_path: Path) -> None:
    pages = [str(p) for p in sorted((FIXTURES / "biorxiv").glob("details_*.json"))]
    result = run(tmp_path, "ingest", "biorxiv", "--file", *pages)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "10 new, 1 updated, 0 unchanged, 0 skipped, 0 errors"
    assert summary_total(result.stdout) == 11
    found = run(tmp_path, "search", "hippocampal replay", "--json")
    [hit] = json.loads(found.stdout)
    assert hit["id"] == "10.1101/2025.01.10.632451"
    assert hit["url"] == "https://www.biorxiv.org/content/10.1101/2025.01.10.632451v2"


def _on_a_terminal(tmp_path: Path, *args: str, **env: str) -> str:
    """What `paperwire ARGS` prints when its stdout is a terminal (a pseudo-terminal)."""
    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PAPERWIRE_DB": str(tmp_path / "p.db"),
        **env,
    }
    with subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        stdout=follower,
        stderr=subprocess.PIPE,
        env=environment,
    ) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode()


def test_search_highlights_in_bold_on_a_terminal(corpus: Path) -> None:
    shown = _on_a_terminal(corpus, "search", "diffusion", "--limit", "2")
    assert "\x1b[1m" in shown and "[diffusion]" not in shown.lower()
    plain = _on_a_terminal(corpus, "search", "diffusion", "--limit", "2", NO_COLOR="1")
    assert "\x1b[" not in plain and "[diffusion" in plain.lower()
    piped = run(corpus, "search", "diffusion", "--limit", "2").stdout
    assert "\x1b[" not in piped and "[diffusion" in piped.lower()


def test_next_steps_name_paperwire_as_it_was_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.commands import invoked_as

    script, python = tmp_path / "venv" / "bin" / "paperwire", tmp_path / "venv" / "bin" / "python"
    script.parent.mkdir(parents=True)
    for executable in (script, python):
        executable.write_text("#!/bin/sh\n")
        executable.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert invoked_as("venv/bin/paperwire") == "venv/bin/paperwire"  # as typed
    assert invoked_as(str(script)) == "venv/bin/paperwire"  # the shell gave the full path
    monkeypatch.setenv("PATH", f"{script.parent}:/usr/bin:/bin")
    assert invoked_as(str(script)) == "paperwire"  # on PATH: the venv is active
    main = str(Path("bot", "__main__.py").resolve())
    assert invoked_as(main, executable=str(python)) == "python -m bot"


def test_every_subcommand_has_its_handler() -> None:
    import argparse

    from bot.cli import build_parser
    from bot.commands import COMMANDS

    parser = build_parser()
    [subcommands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(subcommands.choices) - {"bench"} == set(COMMANDS)


def test_a_reading_list_through_the_shell(tmp_path: Path) -> None:
    ingested = run(tmp_path, "ingest", "arxiv", "--file", str(SAMPLES / "arxiv_rdf_cs_CL.xml"))
    assert ingested.returncode == 0, ingested.stderr
    script = (
        "/papers save https://arxiv.org/abs/1808.09377\n"
        "/papers save 1808.09377v2\n"
        "/papers saved tag 1 nlp\n"
        "/papers saved --tag nlp\n"
        "/papers saved export bibtex\n"
    )
    result = run(tmp_path, "shell", stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Saved “" in out and "is already in your list" in out
    assert "1 paper tagged “nlp”" in out and "1808.09377" in out
    assert "paperwire-saved.bib: 1 entry (BibTeX, " in out
    written = re.search(r"^file: (/\S+/paperwire-saved\.bib) \(\d+ bytes\)$", out, re.M)
    assert written is not None, out
    entry = Path(written.group(1)).read_text(encoding="utf-8")
    assert Path(written.group(1)).is_relative_to(tmp_path)
    assert "  eprint = {1808.09377},\n  archivePrefix = {arXiv}," in entry  # indentation kept
