"""The lineage explorer in Chromium: depth and direction, expand and collapse, filters, path
highlighting, exports."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from mllineage import Artifact, Association, Session
from mllineage.server.testing import ServerProcess
from tests.ui.conftest import NO_PLAYWRIGHT, Seeded, draws, visible_vertices, wait_for_graph

SVG = "{http://www.w3.org/2000/svg}"

expect = pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT).expect


def open_lineage(page: Any, server: Seeded, arn: str, query: str = "") -> int:
    page.goto(f"{server.url}/ui/lineage?arn={quote(arn, safe='')}{query}")
    return wait_for_graph(page)


def status(page: Any) -> Any:
    return page.locator(".graph-tools .status")


def test_entity_to_lineage_then_depth_and_direction(
    page: Any, open_server: Seeded, screenshot: Any
) -> None:
    page.goto(f"{open_server.url}/ui/entity?arn={quote(open_server.arns['model'], safe='')}")
    page.get_by_role("link", name="Explore lineage").click()
    both = wait_for_graph(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lineage of churn-model-")
    assert both > 10
    expect(status(page)).to_contain_text(f"{both} vertices")
    start = page.evaluate("window.__mllineage.cy.nodes('.start').map((n) => n.id())")
    assert start == [open_server.arns["model"]]
    page.get_by_label("Node", exact=True).select_option(open_server.arns["model"])
    expect(page.locator(".node-details")).to_contain_text("accuracy")
    screenshot(page, "lineage")

    before = draws(page)
    page.get_by_label("Depth").select_option("1")
    expect(page).to_have_url(re.compile(r"depth=1"))
    shallow = wait_for_graph(page, before)
    assert 1 < shallow < both

    before = draws(page)
    page.get_by_label("Direction").select_option("up")
    expect(page).to_have_url(re.compile(r"direction=up"))
    upstream = wait_for_graph(page, before)
    assert 1 < upstream < shallow
    # Upstream only: every edge ends at the start or at another upstream vertex, never beyond.
    names = page.evaluate("window.__mllineage.cy.nodes().map((n) => n.data('label'))")
    assert not any(label.startswith("deploy-") for label in names)

    # Back restores the previous view (the query lives in the URL).
    before = draws(page)
    page.go_back()
    assert wait_for_graph(page, before) == shallow


def test_expand_and_collapse_a_node(page: Any, open_server: Seeded) -> None:
    shown = open_lineage(page, open_server, open_server.arns["model"], "&direction=up&depth=1")
    # Choose a node by keyboard (the panel's list), then expand it with the button.
    trainer = page.evaluate(
        "window.__mllineage.cy.nodes('[type = \"Training\"]').map((n) => n.id())[0]"
    )
    page.get_by_label("Node", exact=True).select_option(trainer)
    expect(page.locator(".node-details h2")).to_contain_text("train-xgboost-")
    page.get_by_role("button", name="Expand neighbours").click()
    expect(page.get_by_role("button", name="Collapse neighbours")).to_be_visible()
    expanded = visible_vertices(page)
    assert expanded > shown
    expect(status(page)).to_contain_text(f"{expanded} vertices")
    page.get_by_role("button", name="Collapse neighbours").click()
    expect(page.get_by_role("button", name="Expand neighbours")).to_be_visible()
    assert visible_vertices(page) == shown


def test_double_click_on_a_node_expands_it(page: Any, open_server: Seeded) -> None:
    shown = open_lineage(page, open_server, open_server.layered_start, "&direction=down&depth=1")
    box = page.locator(".graph").bounding_box()
    child = page.evaluate(
        """(() => {
            const cy = window.__mllineage.cy;
            const node = cy.nodes().not('.start')[0];
            cy.zoom({ level: 1 });
            cy.center(node);
            const p = node.renderedPosition();
            return { id: node.id(), x: p.x, y: p.y };
        })()"""
    )
    page.mouse.dblclick(box["x"] + child["x"], box["y"] + child["y"])
    expect(status(page)).not_to_contain_text(f"{shown} vertices")
    assert visible_vertices(page) > shown
    classes = page.evaluate(f"window.__mllineage.cy.getElementById({child['id']!r}).classes()")
    assert "expanded" in classes


def test_filter_by_kind_and_type(page: Any, open_server: Seeded) -> None:
    shown = open_lineage(page, open_server, open_server.arns["model"], "&depth=3")
    page.get_by_role("checkbox", name="Contexts").uncheck()
    expect(page).to_have_url(re.compile(r"hide=context"))
    page.wait_for_selector('.graph[data-filter="context|"]', state="attached")
    expect(status(page)).to_contain_text("hidden by the filters")
    kinds = page.evaluate("window.__mllineage.cy.nodes(':visible').map((n) => n.data('kind'))")
    assert "context" not in kinds
    assert len(kinds) < shown
    page.get_by_label("Type").select_option("Dataset")
    expect(page).to_have_url(re.compile(r"type=Dataset"))
    page.wait_for_selector('.graph[data-filter="context|Dataset"]', state="attached")
    visible_types = (
        "window.__mllineage.cy.nodes(':visible').not('.start').map((n) => n.data('type'))"
    )
    # The graph's styles can follow its classes a moment later: look again for up to 5 s
    # (from here: the page's CSP forbids the eval that wait_for_function would need).
    for _ in range(100):
        types = page.evaluate(visible_types)
        if set(types) == {"Dataset"}:
            break
        page.wait_for_timeout(50)
    assert types
    assert set(types) == {"Dataset"}


def test_highlight_the_path_between_two_nodes(
    page: Any, open_server: Seeded, screenshot: Any
) -> None:
    open_lineage(page, open_server, open_server.arns["model"], "&direction=up&depth=5")
    raw = page.evaluate(
        "window.__mllineage.cy.nodes().filter((n) => n.data('label').startsWith('customers-raw'))"
        ".map((n) => n.id())[0]"
    )
    page.get_by_label("From").select_option(raw)
    page.get_by_label("To").select_option(open_server.arns["model"])
    page.get_by_role("button", name="Highlight path").click()
    expect(page.get_by_role("status").filter(has_text="Path of")).to_contain_text("downstream")
    on_path = page.evaluate("window.__mllineage.cy.nodes('.on-path').map((n) => n.id())")
    assert raw in on_path
    assert open_server.arns["model"] in on_path
    # customers-raw -> preprocess -> train data -> training -> model: 4 steps.
    assert page.evaluate("window.__mllineage.cy.edges('.on-path').length") == 4
    page.get_by_role("button", name="Fit").click()
    screenshot(page, "lineage-path")
    page.get_by_role("button", name="Clear").click()
    assert page.evaluate("window.__mllineage.cy.elements('.on-path, .faded').length") == 0


def test_export_svg_png_and_cli_formats(page: Any, open_server: Seeded, tmp_path: Path) -> None:
    shown = open_lineage(page, open_server, open_server.arns["model"], "&depth=2")
    with page.expect_download() as svg_download:
        page.get_by_role("button", name="SVG").click()
    svg = tmp_path / "view.svg"
    svg_download.value.save_as(svg)
    assert svg_download.value.suggested_filename.endswith(".svg")
    root = ElementTree.parse(svg).getroot()
    assert root.tag == f"{SVG}svg"
    assert len(root.findall(f"{SVG}g")) == shown  # one group per vertex

    with page.expect_download() as png_download:
        page.get_by_role("button", name="PNG").click()
    png = tmp_path / "view.png"
    png_download.value.save_as(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    with page.expect_download() as dot_download:
        page.get_by_role("link", name="DOT").click()
    dot = tmp_path / "view.dot"
    dot_download.value.save_as(dot)
    assert dot.read_text(encoding="utf-8").lstrip().startswith("digraph")


def test_as_of_before_the_data_shows_an_error_or_nothing(page: Any, open_server: Seeded) -> None:
    page.goto(
        f"{open_server.url}/ui/lineage?arn={quote(open_server.arns['model'], safe='')}"
        "&as_of=2001-01-01T00:00:00Z"
    )
    # The model did not exist then: the server says so, and the page shows it.
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator(".notice")).to_contain_text("As of 2001-01-01 00:00:00 UTC")


def test_as_of_shows_the_graph_as_it_was(page: Any, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'lineage.db'}"
    with Session(store) as session:
        data = Artifact.create(
            artifact_type="DataSet",
            artifact_name="data",
            source={"source_uri": "s3://b/data"},
            sagemaker_session=session,
        )
        first = Artifact.create(
            artifact_type="Model",
            artifact_name="model-v1",
            source={"source_uri": "s3://b/m1"},
            sagemaker_session=session,
        )
        Association.create(
            data.artifact_arn, first.artifact_arn, "ContributedTo", sagemaker_session=session
        )
        time.sleep(0.01)
        instant = datetime.now(timezone.utc)
        time.sleep(0.01)
        second = Artifact.create(
            artifact_type="Model",
            artifact_name="model-v2",
            source={"source_uri": "s3://b/m2"},
            sagemaker_session=session,
        )
        Association.create(
            data.artifact_arn, second.artifact_arn, "ContributedTo", sagemaker_session=session
        )
    with ServerProcess(store) as server:
        seeded = Seeded(server, {}, "")
        arn = data.artifact_arn
        assert open_lineage(page, seeded, arn, "&direction=down&depth=1") == 3
        assert drawn_ids(page) == {arn, first.artifact_arn, second.artifact_arn}
        as_of = instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert open_lineage(page, seeded, arn, f"&direction=down&depth=1&as_of={as_of}") == 2
        assert drawn_ids(page) == {arn, first.artifact_arn}


def drawn_ids(page: Any) -> set[str]:
    ids: list[str] = page.evaluate("window.__mllineage.cy.nodes().map((n) => n.id())")
    return set(ids)


def tab_to(page: Any, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("(element) => element === document.activeElement"):
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


def test_keyboard_only_walk_from_search_to_an_expanded_node(page: Any, open_server: Seeded) -> None:
    page.goto(f"{open_server.url}/ui/")
    expect(page.get_by_label("Name starts with, or an ARN")).to_be_focused()
    page.keyboard.type("churn-model")
    page.keyboard.press("Enter")
    page.wait_for_selector("table.results tbody tr")
    tab_to(page, "table.results tbody tr:first-child td:first-child a")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/ui/entity\?arn="))
    tab_to(page, "a.lineage-link")
    page.keyboard.press("Enter")
    shown = wait_for_graph(page)
    tab_to(page, "#l-node")
    page.keyboard.press("ArrowDown")
    expect(page.locator(".node-details h2")).to_be_visible()
    tab_to(page, ".node-details .buttons button:first-child")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Collapse neighbours")).to_be_focused()
    assert visible_vertices(page) >= shown
