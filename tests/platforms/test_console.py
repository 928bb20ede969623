import io
from pathlib import Path

from bot.app import Services
from bot.delivery.outbox import OutgoingMessage
from bot.models import Destination
from bot.platforms.console import ConsoleTransport, invocation_from_line, run_shell
from bot.render.neutral import Attachment, Notice, Reply

SHELL = Destination("console", "local", "shell", kind="reply")


def test_lines_become_invocations() -> None:
    assert invocation_from_line("/papers search x y", "ada").text == "search x y"  # type: ignore[union-attr]
    assert invocation_from_line("papers help", "ada").text == "help"  # type: ignore[union-attr]
    assert invocation_from_line("trending", "ada").text == "trending"  # type: ignore[union-attr]
    assert invocation_from_line("/papers", "ada").text == ""  # type: ignore[union-attr]
    assert invocation_from_line("   ", "ada") is None
    assert invocation_from_line("# a comment", "ada") is None
    # "/paperswhatever" is not the command: the whole line is the text.
    assert invocation_from_line("/paperswhat", "ada").text == "/paperswhat"  # type: ignore[union-attr]


async def test_shell_answers_each_line_until_exit(seeded: Services) -> None:
    stdin = io.StringIO("/papers search diffusion\n\n/papers bogus\nexit\n/papers help\n")
    out = io.StringIO()
    handled = await run_shell(seeded, stdin, out, interactive=False)
    assert handled == 2
    text = out.getvalue()
    assert "for “diffusion”" in text
    assert "Unknown command `bogus`" in text
    assert text.count("This help.") == 1  # only for `bogus`: the help after `exit` never ran
    assert "paperwire> " not in text  # no prompt when not interactive


async def test_interactive_shell_prompts(seeded: Services) -> None:
    out = io.StringIO()
    await run_shell(seeded, io.StringIO("help\n"), out, interactive=True)
    assert out.getvalue().count("paperwire> ") == 2
    assert "Type /papers help" in out.getvalue()


async def test_channel_messages_are_labelled_with_their_channel() -> None:
    out = io.StringIO()
    transport = ConsoleTransport(out)
    receipt = await transport.send(
        OutgoingMessage(Destination("console", "local", "general"), Reply(Notice("hi \x1b[2J")))
    )
    assert receipt.ok
    assert out.getvalue().startswith("── #general ──\nhi")
    assert "\x1b" not in out.getvalue()


async def test_files_are_written_to_a_directory_and_named(tmp_path: Path) -> None:
    out = io.StringIO()
    transport = ConsoleTransport(out, files_dir=tmp_path)
    bib = Attachment("../paperwire saved.bib", b"@misc{k,}\n", "application/x-bibtex")
    reply = Reply(Notice("2 entries."), files=(bib, bib))
    assert (await transport.send(OutgoingMessage(SHELL, reply))).ok
    first, second = tmp_path / "paperwire_saved.bib", tmp_path / "paperwire_saved-2.bib"
    assert first.read_bytes() == second.read_bytes() == b"@misc{k,}\n"  # never overwritten
    assert out.getvalue().splitlines()[:3] == [
        "2 entries.",
        f"file: {first} (10 bytes)",
        f"file: {second} (10 bytes)",
    ]
