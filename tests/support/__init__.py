"""Helpers shared by the whole test suite; fixtures live in tests/conftest.py.

from tests.support import assert_no_axe_violations, assert_valid_html
"""

from tests.support.accessibility import AXE_TAGS, assert_no_axe_violations, axe_violations
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.html import assert_valid_html, html_problems

__all__ = [
    "AXE_TAGS",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "assert_no_axe_violations",
    "assert_valid_html",
    "axe_violations",
    "html_problems",
]
