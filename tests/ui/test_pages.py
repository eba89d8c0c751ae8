"""Home, browse and entity pages, error pages and empty states, in Chromium."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import pytest

from mllineage.server.testing import ServerProcess
from tests.ui.conftest import NO_PLAYWRIGHT, Seeded

expect = pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT).expect


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlparse(url).query)


def test_home_shows_counts_and_search_by_keyboard(
    page: Any, open_server: Seeded, screenshot: Any
) -> None:
    page.goto(f"{open_server.url}/ui/")
    expect(page.get_by_role("heading", name="Lineage overview")).to_be_visible()
    artifacts = page.locator("section.card", has=page.get_by_role("link", name="Artifacts"))
    expect(artifacts.get_by_role("link", name="Model")).to_be_visible()
    screenshot(page, "home")

    # The search box has focus on arrival; Enter submits.
    expect(page.get_by_label("Name starts with, or an ARN")).to_be_focused()
    page.keyboard.type("churn-model")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/ui/artifacts\?name=churn-model$"))
    rows = page.locator("table.results tbody tr")
    expect(rows).to_have_count(2)
    for name in rows.locator("td:first-child").all_inner_texts():
        assert name.startswith("churn-model-")


def test_search_with_an_arn_opens_the_entity(page: Any, open_server: Seeded) -> None:
    page.goto(f"{open_server.url}/ui/")
    page.get_by_label("Name starts with, or an ARN").fill(open_server.arns["model"])
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/ui/entity\?arn="))
    expect(page.get_by_role("heading", level=1)).to_contain_text("churn-model-")


def test_browse_filters_live_in_a_shareable_url(
    page: Any, open_server: Seeded, screenshot: Any
) -> None:
    page.goto(f"{open_server.url}/ui/artifacts")
    page.get_by_label("Type").fill("Model")
    page.get_by_label("Property (key:value)").fill("framework:xgboost")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"type=Model"))
    assert query_of(page.url)["property"] == ["framework:xgboost"]
    rows = page.locator("table.results tbody tr")
    expect(rows).to_have_count(2)
    assert set(rows.locator("td:nth-child(2)").all_inner_texts()) == {"Model"}
    screenshot(page, "browse")

    # The same URL in a new tab shows the same results, with the filters filled in.
    shared = page.context.new_page()
    shared.goto(page.url)
    expect(shared.locator("table.results tbody tr")).to_have_count(2)
    expect(shared.get_by_label("Type")).to_have_value("Model")
    shared.close()

    page.get_by_role("link", name="Clear").click()
    expect(page).to_have_url(re.compile(r"/ui/artifacts$"))


def test_browse_pages_with_next_token_and_back(page: Any, open_server: Seeded) -> None:
    page.goto(f"{open_server.url}/ui/artifacts?type=Dataset")
    rows = page.locator("table.results tbody tr")
    expect(rows).to_have_count(50)
    first_page = rows.locator("td:first-child").all_inner_texts()
    page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"next_token="))
    # The first name changes when the next page is shown (the old rows stay while it loads;
    # a row's whole text is never just a name, so the wait is on the name's cell).
    expect(rows.first.locator("td").first).not_to_have_text(first_page[0])
    second_page = rows.locator("td:first-child").all_inner_texts()
    assert second_page
    assert not set(second_page) & set(first_page), (page.url, first_page, second_page)
    page.go_back()
    expect(rows).to_have_count(50)
    expect(rows.first).to_have_text(re.compile(re.escape(first_page[0])))


def test_browse_by_time_range_finds_nothing_before_the_data(page: Any, open_server: Seeded) -> None:
    page.goto(f"{open_server.url}/ui/actions?created_before=2001-01-01T00:00:00Z")
    expect(page.get_by_text("No actions match these filters.")).to_be_visible()


def test_entity_page_shows_fields_neighbours_and_history(
    page: Any, open_server: Seeded, screenshot: Any
) -> None:
    page.goto(f"{open_server.url}/ui/entity?arn={quote(open_server.arns['model'], safe='')}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("churn-model-")
    fields = page.locator("section.card", has=page.get_by_role("heading", name="Fields"))
    expect(fields).to_contain_text(open_server.arns["model"])
    expect(fields).to_contain_text("s3://demo-bucket/models/")
    properties = page.locator("section.card", has=page.get_by_role("heading", name="Properties"))
    expect(properties.locator("tr", has_text="accuracy")).to_contain_text("0.94")
    inputs_heading = page.get_by_role("heading", name=re.compile("Inputs"))
    inputs = page.locator("section.card", has=inputs_heading)
    expect(inputs).to_contain_text("Produced")
    history = page.locator("section.card", has=page.get_by_role("heading", name="History"))
    expect(history.locator("tbody tr").first).to_be_visible()
    expect(history).to_contain_text("CreateArtifact")
    screenshot(page, "entity")

    # An input is a link to its own page.
    inputs.get_by_role("link", name=re.compile("^train-xgboost-")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("train-xgboost-")
    expect(page.locator(".badge").first).to_have_text("action")


def test_unknown_page_and_entity_say_not_found(page: Any, open_server: Seeded) -> None:
    page.goto(f"{open_server.url}/ui/no-such-page")
    expect(page.get_by_role("alert")).to_contain_text("Not found")
    missing = "arn:aws:sagemaker:local:000000000000:artifact/" + "0" * 32
    page.goto(f"{open_server.url}/ui/entity?arn={quote(missing, safe='')}")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Not found")
    expect(alert.get_by_role("link", name="Back to the overview")).to_be_visible()


def test_bad_parameter_is_explained(page: Any, open_server: Seeded) -> None:
    page.goto(f"{open_server.url}/ui/artifacts?created_after=yesterday")
    expect(page.get_by_role("alert")).to_contain_text("created_after")


def test_empty_store_points_to_the_demo(page: Any, tmp_path: Any) -> None:
    with ServerProcess(f"sqlite:///{tmp_path / 'empty.db'}") as server:
        page.goto(f"{server.url}/ui/")
        empty = page.locator(".empty-state")
        expect(empty).to_contain_text("No lineage recorded yet")
        expect(empty.locator("code", has_text="mllineage demo")).to_be_visible()
        page.goto(f"{server.url}/ui/contexts")
        expect(page.locator(".empty-state")).to_contain_text("mllineage demo")
