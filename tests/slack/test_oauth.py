"""One paperwire for many workspaces: the real bolt app in OAuth mode, served as `paperwire
run` serves it, against a fake Slack with three workspaces, each with its own token. Each
installs through `/slack/install`, and everything it gets (replies, lookups, digests)
carries its own token; one that uninstalls gets nothing more."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import Services
from bot.delivery import codec
from bot.delivery.outbox import OutgoingMessage
from bot.models import Destination
from bot.platforms.slack import SlackAdapter, SlackConfig
from bot.platforms.slack.config import BOT_SCOPES
from bot.render.neutral import Digest, Reply
from handlers.router import needs_manager
from tests.conftest import NOW, make_paper
from tests.slack.fake_slack import FakeSlack, running_fake_slack
from tests.slack.served import SECRET
from tests.slack.signing import signed_headers, slash_command_body

TEAMS = ("T1", "T2", "T3")
COOKIE = "slack-app-oauth-state"


@dataclass
class Served:
    fake: FakeSlack
    services: Services
    adapter: SlackAdapter
    url: str  # the server's root
    http: aiohttp.ClientSession

    async def install_page(self) -> tuple[int, str, str | None]:
        """GET /slack/install: its status, its "Add to Slack" link's state, its cookie."""
        async with self.http.get(f"{self.url}/slack/install") as page:
            html = await page.text()
            cookie = page.cookies.get(COOKIE)
        link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', html)
        assert link is not None, html
        state = re.search(r"state=([^&]+)", link.group(1))
        assert state is not None
        return page.status, state.group(1), cookie.value if cookie else None

    async def redirect(self, code: str, state: str, cookie: str | None) -> int:
        """Slack sends the installer's browser back: GET /slack/oauth_redirect."""
        headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
        url = f"{self.url}/slack/oauth_redirect?code={code}&state={state}"
        async with self.http.get(url, headers=headers) as answer:
            return answer.status

    async def install(self, team: str) -> None:
        _, state, cookie = await self.install_page()
        assert await self.redirect(self.fake.workspaces[team].code, state, cookie) == 200

    async def post(self, body: str, content_type: str | None = None) -> int:
        headers = signed_headers(SECRET, body)
        if content_type:
            headers["Content-Type"] = content_type
        async with self.http.post(f"{self.url}/slack/events", data=body, headers=headers) as r:
            return r.status


@pytest.fixture
async def served(seeded: Services) -> AsyncIterator[Served]:
    async with running_fake_slack() as fake:
        for team in TEAMS:
            fake.add_workspace(team, rotating=team == "T3")
        config = SlackConfig(
            bot_token="",
            signing_secret=SECRET,
            api_url=fake.api_url,
            client_id=fake.client_id,
            client_secret=fake.client_secret,
        )
        adapter = SlackAdapter(seeded, config)
        seeded.delivery.register(adapter)
        server = TestServer(adapter.web_app(), host="127.0.0.1")
        await server.start_server(access_log=None)
        try:
            async with aiohttp.ClientSession() as http:
                root = str(server.make_url("")).rstrip("/")
                yield Served(fake, seeded, adapter, root, http)
        finally:
            await server.close()


def event_body(team: str, event: dict[str, Any]) -> str:
    return json.dumps(
        {
            "token": "x",
            "team_id": team,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"Ev-{team}-{event['type']}",
            "event_time": int(time.time()),
            "event": event,
        }
    )


def digest_to(team: str, channel: str = "C1") -> OutgoingMessage:
    digest = Digest(day=NOW.date(), papers=(make_paper(),))
    return OutgoingMessage(Destination("slack", team, channel), Reply(digest, ephemeral=False))


async def test_a_workspace_installs_through_the_install_page(served: Served) -> None:
    status, state, cookie = await served.install_page()
    assert status == 200 and cookie == state
    assert await served.redirect("code-T1", state, cookie) == 200

    kept = await served.services.installations.installation("T1")
    assert kept is not None and kept.installed
    assert (kept.bot_token, kept.bot_user_id, kept.bot_id) == ("xoxb-T1-token", "UT1BOT", "BT1")
    assert kept.installer == "UINSTALLER" and kept.refresh_token is None
    [access] = served.fake.calls_to("oauth.v2.access")
    assert access.args["code"] == "code-T1"  # with the app's client id and secret (Basic)
    [check] = served.fake.calls_to("auth.test")  # bolt's: the bot id, with the new token
    assert check.token == "xoxb-T1-token"


async def _page(served: Served) -> str:
    async with served.http.get(f"{served.url}/slack/install") as page:
        return await page.text()


async def test_the_install_page_asks_for_the_manifests_scopes(served: Served) -> None:
    html = await _page(served)
    assert "scope=" + "%2C".join(s.replace(":", "%3A") for s in BOT_SCOPES) in html or (
        "scope=" + ",".join(BOT_SCOPES) in html
    )
    manifest = (_root() / "slack-app-manifest.yml").read_text()
    scopes = manifest.split("    bot:\n")[1].split("settings:")[0]
    listed = re.findall(r"^\s+- ([a-z_.:]+)\s+#", scopes, re.M)
    assert tuple(listed) == BOT_SCOPES


def _root() -> Any:
    from pathlib import Path

    return Path(__file__).parents[2]


async def test_a_forged_a_reused_or_a_foreign_state_is_refused(served: Served) -> None:
    _, state, cookie = await served.install_page()
    assert await served.redirect("code-T1", "forged", "forged") == 401  # never issued
    assert await served.redirect("code-T1", state, None) == 400  # not this browser's
    assert await served.redirect("code-T1", state, cookie) == 200
    assert await served.redirect("code-T1", state, cookie) == 401  # used already
    assert len(served.fake.calls_to("oauth.v2.access")) == 1
    _, other, _ = await served.install_page()
    assert await served.redirect("code-T2", other, cookie) == 400  # another browser's state
    assert await served.services.installations.installation("T2") is None


async def test_each_workspace_is_answered_with_its_own_token(served: Served) -> None:
    for team in TEAMS:
        await served.install(team)
    text = "digest on 09:00"
    assert needs_manager(text)  # a users.info lookup, with the asker's workspace's token
    for team in TEAMS:
        body = slash_command_body(
            text, team_id=team, user_id=f"U-{team}", response_url=served.fake.response_url(team)
        )
        assert await served.post(body) == 200
        mention = {
            "type": "app_mention",
            "user": f"U-{team}",
            "text": f"<@U{team}BOT> search diffusion",
            "ts": "1700000000.000200",
            "channel": f"C-{team}",
            "event_ts": "1700000000.000200",
        }
        assert await served.post(event_body(team, mention), "application/json") == 200
    await served.fake.wait_for("response_url", count=3)
    posts = await served.fake.wait_for("chat.postMessage", count=3)
    await served.services.delivery.wait_idle()
    lookups = served.fake.calls_to("users.info")
    assert {(c.args["user"], served.fake.team_of(c)) for c in lookups} == {
        (f"U-{t}", t) for t in TEAMS
    }
    # The mention's answer, in its thread.
    assert {(c.args["channel"], served.fake.team_of(c)) for c in posts} == {
        (f"C-{t}", t) for t in TEAMS
    }
    assert {c.token for c in posts} == {"xoxb-T1-token", "xoxb-T2-token", "xoxb-T3-token"}


async def test_a_rotating_token_is_refreshed_before_it_is_used(served: Served) -> None:
    # Slack's rotating tokens live 12 hours; paperwire refreshes one 2 hours before it
    # expires: this one expires in an hour.
    served.fake.workspaces["T3"].expires_in = 3600
    await served.install("T3")
    first = await served.services.installations.installation("T3")
    assert first is not None and first.refresh_token == "xoxe-1-T3-refresh"
    assert first.bot_token == "xoxb-T3-token"

    assert (await served.services.delivery.deliver(digest_to("T3"))).ok

    refreshed = await served.services.installations.installation("T3")
    assert refreshed is not None and refreshed.bot_token == "xoxb-T3-token-1"
    assert refreshed.token_expires_at is not None
    assert {c.token for c in served.fake.calls_to("chat.postMessage")} == {"xoxb-T3-token-1"}
    grants = [c.args.get("grant_type") for c in served.fake.calls_to("oauth.v2.access")]
    assert grants == [None, "refresh_token"]  # the install's code, then one refresh


async def test_a_digest_reaches_each_workspace_with_its_token(served: Served) -> None:
    for team in TEAMS:
        await served.install(team)
    for team in TEAMS:
        assert (await served.services.delivery.deliver(digest_to(team))).ok
    posts = served.fake.calls_to("chat.postMessage")
    assert sorted(served.fake.team_of(c) or "" for c in posts if "thread_ts" not in c.args) == [
        "T1",
        "T2",
        "T3",
    ]
    assert all(c.token and served.fake.team_of(c) for c in posts)


async def test_an_uninstalled_workspace_gets_nothing_more(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    services = served.services
    for team in TEAMS:
        await served.install(team)
    waiting = Reply(Digest(day=NOW.date(), papers=(make_paper(),)), ephemeral=False)
    for team in TEAMS:  # queued, not sent yet
        await services.outbox.enqueue(f"slack:{team}:C1", codec.dumps(waiting), [], NOW)

    gone = {"type": "app_uninstalled", "event_ts": "1700000000.000300"}
    assert await served.post(event_body("T2", gone), "application/json") == 200
    await services.requests.finish(5)  # the event's listener has run
    assert "workspace T2 uninstalled paperwire (app_uninstalled)" in caplog.text

    await services.delivery.drain()
    posted = {served.fake.team_of(c) for c in served.fake.calls_to("chat.postMessage")}
    assert posted == {"T1", "T3"}
    assert (await services.outbox.destination_state("slack:T2:C1")).error == "app_uninstalled"
    # Queued later (a schedule that ran meanwhile), it is dropped, never sent elsewhere.
    receipt = await services.delivery.deliver(digest_to("T2", "C9"))
    assert not receipt.ok
    await services.outbox.enqueue("slack:T2:C7", codec.dumps(waiting), [], NOW)
    await services.delivery.drain()
    assert {served.fake.team_of(c) for c in served.fake.calls_to("chat.postMessage")} == posted
    assert "a message for slack:T2:C7 was dropped" in caplog.text
    assert "xoxb-" not in caplog.text


async def test_a_revoked_token_stops_the_workspace_too(served: Served) -> None:
    await served.install("T1")
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UT1BOT"]}}
    assert await served.post(event_body("T1", revoked), "application/json") == 200
    await served.services.requests.finish(5)
    gone = await served.services.installations.installation("T1")
    assert gone is not None and not gone.installed
    served.fake.workspaces["T1"].code = "code-T1-again"  # a code is good once
    await served.install("T1")  # back within the grace: installed again
    back = await served.services.installations.installation("T1")
    assert back is not None and back.installed


async def test_a_command_from_a_workspace_not_installed_is_told_to_install(
    served: Served,
) -> None:
    body = slash_command_body("help", team_id="T9", response_url=served.fake.response_url())
    assert await served.post(body) == 200
    [answer] = await served.fake.wait_for("response_url")  # bolt's own, and nothing else
    assert "install this app" in str(answer.args.get("text"))
    await served.services.delivery.wait_idle()
    assert [c.method for c in served.fake.calls] == ["response_url"]
