import pytest

from bot.config import Settings, default_db_path
from bot.errors import UserError


def test_defaults_follow_xdg() -> None:
    assert default_db_path({"XDG_DATA_HOME": "/data"}) == "/data/paperwire/paperwire.db"
    settings = Settings.from_env({"XDG_DATA_HOME": "/data"})
    assert settings.db_path == "/data/paperwire/paperwire.db"
    assert (settings.digest_size, settings.search_page_size) == (10, 5)


def test_flag_beats_environment() -> None:
    env = {"PAPERWIRE_DB": "/env.db"}
    assert Settings.from_env(env).db_path == "/env.db"
    assert Settings.from_env(env, db="/flag.db").db_path == "/flag.db"


@pytest.mark.parametrize(
    ("value", "message"),
    [("ten", "must be a whole number"), ("0", "between 1 and 50"), ("51", "between 1 and 50")],
)
def test_bad_numbers_are_explained(value: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        Settings.from_env({"PAPERWIRE_DIGEST_SIZE": value})


def test_biorxiv_is_a_source_with_its_servers() -> None:
    settings = Settings.from_env({"PAPERWIRE_SOURCES": "hf,biorxiv"})
    assert settings.sources == ("hf", "biorxiv")
    assert settings.biorxiv_servers == ("biorxiv",)
    assert settings.biorxiv_api_url == "https://api.biorxiv.org"
    both = Settings.from_env({"PAPERWIRE_BIORXIV_SERVERS": "biorxiv, medrxiv"})
    assert both.biorxiv_servers == ("biorxiv", "medrxiv")
    with pytest.raises(UserError, match="unknown server 'chemrxiv'"):
        Settings.from_env({"PAPERWIRE_BIORXIV_SERVERS": "chemrxiv"})
