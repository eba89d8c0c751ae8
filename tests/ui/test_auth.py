"""Signing in and out of a server that requires authentication, and what is refused without a
session, in Chromium."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest

from tests.ui.conftest import ACCESS_KEY, NO_PLAYWRIGHT, SECRET, Seeded, wait_for_graph

DATA_ROUTES = ["summary", "entities?kind=artifact", "entity?arn={arn}", "history?arn={arn}"]
DATA_ROUTES += ["lineage?arn={arn}", "export?arn={arn}&format=dot"]

expect = pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT).expect


def sign_in(page: Any, key: str, secret: str) -> None:
    page.get_by_label("Access key ID").fill(key)
    page.get_by_label("Secret access key").fill(secret)
    page.get_by_label("Secret access key").press("Enter")


def test_sign_in_then_out(page: Any, auth_server: Seeded, screenshot: Any) -> None:
    lineage = f"/ui/lineage?arn={quote(auth_server.arns['model'], safe='')}&depth=2"
    page.goto(auth_server.url + lineage)
    # Refused: the server sends the browser to the sign-in page, remembering where it was going.
    expect(page).to_have_url(re.compile(r"/ui/login\?next="))
    expect(page.get_by_role("heading", name="Sign in to mllineage")).to_be_visible()
    screenshot(page, "sign-in")

    sign_in(page, ACCESS_KEY, "not-the-secret")
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    expect(page.get_by_label("Secret access key")).to_have_value("")
    expect(page.get_by_label("Secret access key")).to_be_focused()

    sign_in(page, ACCESS_KEY, SECRET)
    expect(page).to_have_url(re.compile(re.escape(lineage.split("?")[0])))
    assert wait_for_graph(page) > 1
    expect(page.locator("header")).to_contain_text(ACCESS_KEY)

    # The session is an HttpOnly cookie the page's scripts cannot read; no secret anywhere.
    cookies = page.context.cookies()
    session = [c for c in cookies if c["name"] == "mllineage_session"]
    assert session
    assert session[0]["httpOnly"]
    assert session[0]["sameSite"] == "Strict"
    assert "mllineage_session" not in page.evaluate("document.cookie")
    storage = page.evaluate("JSON.stringify([localStorage, sessionStorage])")
    assert SECRET not in storage
    assert SECRET not in session[0]["value"]

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/ui/login"))
    assert not [c for c in page.context.cookies() if c["name"] == "mllineage_session"]
    page.goto(f"{auth_server.url}/ui/artifacts")
    expect(page).to_have_url(re.compile(r"/ui/login\?next=%2Fui%2Fartifacts"))


@pytest.mark.parametrize("route", DATA_ROUTES)
def test_data_routes_refuse_without_a_session(page: Any, auth_server: Seeded, route: str) -> None:
    answer = page.request.get(
        f"{auth_server.url}/ui/api/{route.format(arn=quote(auth_server.arns['model'], safe=''))}"
    )
    assert answer.status == 401
    assert answer.json()["error"]["code"] == "NotSignedIn"


def test_session_expiry_sends_the_page_to_sign_in(page: Any, auth_server: Seeded) -> None:
    page.goto(f"{auth_server.url}/ui/login")
    sign_in(page, ACCESS_KEY, SECRET)
    expect(page.get_by_role("heading", name="Lineage overview")).to_be_visible()
    # The cookie goes away behind the page's back (expiry, another tab signing out).
    page.context.clear_cookies()
    page.get_by_role("link", name="Contexts").first.click()
    expect(page).to_have_url(re.compile(r"/ui/login\?next=%2Fui%2Fcontexts"))


def test_no_auth_server_says_sign_in_is_not_needed(page: Any, open_server: Seeded) -> None:
    page.goto(f"{open_server.url}/ui/login?next=/ui/actions")
    expect(page.get_by_text("runs without authentication")).to_be_visible()
    page.get_by_role("link", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/ui/actions$"))


def test_sign_in_ignores_a_next_that_leaves_the_ui(page: Any, auth_server: Seeded) -> None:
    page.goto(f"{auth_server.url}/ui/login?next=//evil.example/x")
    sign_in(page, ACCESS_KEY, SECRET)
    expect(page).to_have_url(f"{auth_server.url}/ui/")
