"""Every word of a notification goes through translation; the HTML email is valid HTML."""

from pathlib import Path

import pytest

import civicloop
from tests.staff.test_translatable import bare_text

TEMPLATES = sorted((Path(civicloop.__file__).parent / "notify" / "templates").rglob("*.*"))


def test_there_are_templates_for_email_and_sms():
    names = {p.name for p in TEMPLATES}
    assert {"email.txt", "email.html", "sms.txt"} <= names


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_no_bare_text_in_a_notification_template(path):
    assert bare_text(path.read_text(encoding="utf-8")) == []
