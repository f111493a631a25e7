"""The portal's 404 page in a real Chromium with JavaScript off, in English and, after the
citizen switches language on it, in Spanish: valid HTML, zero axe-core violations (WCAG 2.2
AA), and a link back to the start of the portal that works from the keyboard."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.portal.conftest import build_city
from tests.support import assert_no_axe_violations, assert_valid_html

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live_city(transactional_db):
    return build_city()


def checked(response, page, status: int) -> None:
    assert response is not None and response.status == status, (page.url, response.status)
    assert_valid_html(response.text())
    assert_no_axe_violations(page)


def test_the_portal_404_in_both_languages(live_city, live_server, page_no_js):
    page = page_no_js
    checked(page.goto(live_server.url + "/portal/no-such-page/"), page, 404)
    assert page.locator("h1").inner_text() == "Page not found"
    with page.expect_navigation() as navigation:
        page.locator("button[name=language][value=es]").click()
    checked(navigation.value, page, 404)
    assert page.url == live_server.url + "/portal/no-such-page/"
    assert page.locator("h1").inner_text() == "Página no encontrada"
    assert page.locator("html").get_attribute("lang") == "es"
    link = page.locator("main").get_by_role("link", name="Buscar un servicio")
    link.focus()
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    checked(navigation.value, page, 200)
    assert page.url == live_server.url + reverse("portal:home")
