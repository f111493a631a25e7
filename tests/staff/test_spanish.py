"""Staff pages in Spanish: a browser that asks for Spanish (Accept-Language) gets every staff
page in Spanish, marked lang="es", with zero axe-core violations, and no English sentence of
the catalogue is left on it (a label translated once at import time would be)."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

import civicloop
from tests.staff.pages import all_pages
from tests.support import assert_no_axe_violations
from tests.test_translations import parse_po
from tests.world import build_world

PROJECT_CATALOGUE = Path(civicloop.__file__).parent / "locale/es/LC_MESSAGES/django.po"

# What a page must say in Spanish, and the English it must no longer say.
SPANISH = {
    "home": ("Le damos la bienvenida", "Welcome"),
    "person_search": ("Busque entre las personas", "Search the people"),
    "person_detail": ("Cronología", "Timeline"),
    "case_queue": ("Aplicar filtros", "Apply filters"),
    "case_detail": ("Historial", "History"),
    "triage_queue": ("Cola de clasificación", "Triage queue"),
}


def english_sentences() -> set[str]:
    """English messages of the project catalogue long enough to be unmistakable on a page."""
    sentences = set()
    for entry in parse_po(PROJECT_CATALOGUE.read_text(encoding="utf-8")):
        text = entry.msgid
        if entry.obsolete or entry.msgid_plural or "%" in text or "<" in text:
            continue
        if len(text.split()) >= 3 and entry.msgstr.get(0) not in ("", text):
            sentences.add(text)
    return sentences


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.django_db
def test_every_staff_page_is_in_spanish_with_no_english_sentence_left(world, client_for):
    client = client_for(world.housing_worker)
    english = english_sentences()
    assert len(english) > 300
    for name, path in all_pages(world):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="es")
        html = response.content.decode()
        assert response.status_code == 200, name
        assert '<html lang="es">' in html, name
        text = visible_text(html)
        assert "Cerrar sesión" in text and "Sign out" not in text, name
        assert [s for s in english if s in text] == [], name
        if name in SPANISH:
            spanish, english_word = SPANISH[name]
            assert spanish in text and english_word not in text, name


@pytest.mark.django_db
def test_a_form_error_is_in_spanish(world, client_for):
    client = client_for(world.housing_worker)
    response = client.get(reverse("staff:person_search") + "?name=O", HTTP_ACCEPT_LANGUAGE="es")
    text = visible_text(response.content.decode())
    assert "Hay un problema" in text
    assert "Introduzca al menos dos letras de un nombre." in text


@pytest.fixture
def browser_world(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_world()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_spanish_staff_pages_in_a_browser_have_no_axe_violations(
    browser_world, browser_context_factory, live_server, javascript
):
    world = browser_world
    client = Client()
    client.force_login(world.housing_worker.user)
    # A Spanish browser: Chromium sends Accept-Language from the context's locale.
    context = browser_context_factory(locale="es-ES", java_script_enabled=javascript)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    for name, path in all_pages(world):
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, name
        assert page.locator("html").get_attribute("lang") == "es", name
        if name in SPANISH:
            assert page.get_by_text(SPANISH[name][0]).first.is_visible(), name
        assert_no_axe_violations(page)
    page.goto(live_server.url + reverse("staff:person_search") + "?name=O")
    assert page.get_by_role("heading", name="Hay un problema").is_visible()
    assert_no_axe_violations(page)
