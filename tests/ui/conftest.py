"""Browser tests of the web UI: a real ``mllineage serve`` process, real data, Debian's Chromium.

Playwright for Python drives ``/usr/bin/chromium`` (never a downloaded browser). The tests
skip, saying why, when that browser or the ``playwright`` package is missing.

Screenshots of the main pages go to docs/screenshots/ when MLLINEAGE_SCREENSHOTS=1 (that is
how the README's pictures are made), otherwise to pytest's temporary directory.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bench.ui_bench import CHROMIUM, launch_chromium, seed_layered_lineage
from rich.console import Console

from mllineage import Session
from mllineage.cli.demo import run_demo
from mllineage.server.testing import ServerProcess

ACCESS_KEY, SECRET = "AKIDUITEST", "ui-test-secret"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1366, "height": 768}

NO_PLAYWRIGHT = "the playwright package is not installed (pip install -e '.[dev]')"
NO_CHROMIUM = f"{CHROMIUM} is missing (apt-get install chromium): the UI tests drive it"


class Seeded:
    """A running server over a store holding two demo runs and a layered graph."""

    def __init__(self, server: ServerProcess, arns: dict[str, str], layered_start: str) -> None:
        self.server = server
        self.url = server.url
        self.arns = arns
        self.layered_start = layered_start


def _seed(store: str) -> tuple[dict[str, str], str]:
    quiet = Console(file=io.StringIO())
    with Session(store) as session:
        run_demo(session, quiet)
        arns = run_demo(session, quiet)
    return arns, seed_layered_lineage(store, 150)


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str], str]:
    store = f"sqlite:///{tmp_path_factory.mktemp('ui-store') / 'lineage.db'}"
    arns, start = _seed(store)
    return store, arns, start


@pytest.fixture(scope="session")
def open_server(seeded_store: tuple[str, dict[str, str], str]) -> Iterator[Seeded]:
    """``--no-auth``: everything open."""
    store, arns, start = seeded_store
    with ServerProcess(store) as server:
        yield Seeded(server, arns, start)


@pytest.fixture(scope="session")
def auth_server(seeded_store: tuple[str, dict[str, str], str]) -> Iterator[Seeded]:
    """Authentication on: one access key, the same data (its account is the default one)."""
    store, arns, start = seeded_store
    with ServerProcess(store, credentials={ACCESS_KEY: SECRET}) as server:
        yield Seeded(server, arns, start)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT)
    if not Path(CHROMIUM).exists():
        pytest.skip(NO_CHROMIUM)
    with playwright_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) at laptop size; a script error fails the test."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert errors == [], f"the page raised: {errors}"


@pytest.fixture
def screenshot(tmp_path: Path) -> Any:
    """screenshot(page, name): docs/screenshots/<name>.png with MLLINEAGE_SCREENSHOTS=1."""
    folder = SCREENSHOTS if os.environ.get("MLLINEAGE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)

    def take(tab: Any, name: str) -> Path:
        path = folder / f"{name}.png"
        tab.screenshot(path=str(path))
        assert path.stat().st_size > 10_000, f"{name}.png looks blank"
        return path

    return take


def draws(tab: Any) -> int:
    """How many lineage graphs the page has drawn so far."""
    count: int = tab.evaluate("window.__mllineage ? window.__mllineage.draws : 0")
    return count


def wait_for_graph(tab: Any, after: int = 0) -> int:
    """Wait until the page has drawn its next lineage graph (the one after ``after`` draws);
    return how many vertices it shows."""
    tab.wait_for_selector(f'.graph[data-ready=true][data-draw="{after + 1}"]', state="attached")
    return visible_vertices(tab)


def visible_vertices(tab: Any) -> int:
    count: int = tab.evaluate("window.__mllineage.cy.nodes(':visible').length")
    return count
