"""Every word on a portal page goes through translation: no bare text in its templates."""

from __future__ import annotations

from pathlib import Path

import pytest

import civicloop
from tests.staff.test_translatable import bare_text

TEMPLATES = sorted((Path(civicloop.__file__).parent / "portal" / "templates").rglob("*.html"))


def test_there_are_portal_templates_to_check():
    assert len(TEMPLATES) >= 20


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_no_bare_text_in_portal_template(path):
    assert bare_text(path.read_text(encoding="utf-8")) == []
