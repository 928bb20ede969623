import io

from bot.app import Services
from bot.delivery.outbox import OutgoingMessage
from bot.models import Destination
from bot.platforms.console import ConsoleTransport, invocation_from_line, run_shell
from bot.render.neutral import Notice, Reply


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
