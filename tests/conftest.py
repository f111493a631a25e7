"""Fixtures shared by the whole suite: a real Chromium through Playwright, pages with and
without JavaScript. Helpers to import: `from tests.support import assert_no_axe_violations,
assert_valid_html`.

Browser tests are marked `browser` automatically (deselect with `-m "not browser"`); a missing
/usr/bin/chromium fails them, it never skips them: `make test` installs Debian's Chromium.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API keeps an asyncio loop in the main thread, so Django's ORM would
# refuse to run beside it (SynchronousOnlyOperation) although nothing here is async.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# `from tests.support import ...` works whether or not tests/ is a package.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, DEFAULT_TIMEOUT_MS  # noqa: E402

BROWSER_FIXTURES = {"browser", "page", "page_no_js", "browser_context_factory"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "no_js: the `page` fixture runs with JavaScript disabled")
    # WhiteNoise serves from the finders in tests; an uncollected STATIC_ROOT is expected.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium per test process (per xdist worker), driven by Playwright."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: browser tests need Debian's chromium "
            "(`make test` installs it: apt-get install chromium chromium-driver)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def browser_context_factory(browser):
    """Make isolated browser contexts (cookies, storage) for a test: `factory(**context_options)`.

    Defaults: JavaScript on, en-GB, 1280x800; every option of Browser.new_context may be given.
    All contexts are closed after the test.
    """
    contexts = []

    def make(**options):
        options = {"locale": "en-GB", "viewport": {"width": 1280, "height": 800}, **options}
        context = browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(browser_context_factory, request: pytest.FixtureRequest) -> Iterator:
    """A page in a fresh context; `@pytest.mark.no_js` turns JavaScript off for the test."""
    javascript = request.node.get_closest_marker("no_js") is None
    yield browser_context_factory(java_script_enabled=javascript).new_page()


@pytest.fixture
def page_no_js(browser_context_factory) -> Iterator:
    """A page in a fresh context with JavaScript disabled: what a citizen without JS sees."""
    yield browser_context_factory(java_script_enabled=False).new_page()
