"""The project stands alone: a bare clone has no reference shelf beside it."""

from __future__ import annotations

from pathlib import Path

from tests.fixture_files import FIXTURES, HF_DAILY, SLACK

PROJECT = Path(__file__).resolve().parents[1]
FOLDERS = ("bot", "handlers", "schedules", "tests", ".ci")
# Built from parts so that this file does not match itself.
NEEDLES = ("../" + "shared", "/work/" + "shared", '"' + 'shared" /', "`" + "shared/")


def project_text_files() -> list[Path]:
    files = [path for path in PROJECT.iterdir() if path.is_file()]
    for folder in FOLDERS:
        files += [path for path in (PROJECT / folder).rglob("*") if path.is_file()]
    return [
        path
        for path in files
        if path.suffix in {".py", ".toml", ".md", ".yml", ".xml", ""}
        and "__pycache__" not in path.parts
    ]


def test_no_project_file_reads_the_reference_shelf() -> None:
    files = project_text_files()
    assert PROJECT / "tests" / "conftest.py" in files  # the walk found the project
    offenders = [
        str(path.relative_to(PROJECT))
        for path in files
        if any(needle in path.read_text(encoding="utf-8", errors="replace") for needle in NEEDLES)
    ]
    assert offenders == []


def test_the_fixtures_tests_read_are_in_the_project() -> None:
    assert len(list(HF_DAILY.glob("*.json"))) == 43
    assert (SLACK / "signing_example.json").is_file()
    assert (FIXTURES / "README.md").is_file()
