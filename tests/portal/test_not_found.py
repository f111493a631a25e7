"""An unknown address under /portal/ is the portal's own 404 page, in the citizen's
language, with the way back to the portal; everywhere else the staff pages' 404 stays."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.staff.html import assert_valid_page

pytestmark = pytest.mark.django_db

UNKNOWN = ["/portal/no-such-page/", "/portal/report/check/extra/", "/portal/reports/x/y/z/"]


@pytest.mark.parametrize("path", UNKNOWN)
def test_an_unknown_portal_path_is_the_portals_404(client, city, path):
    response = client.get(path)
    assert response.status_code == 404
    html = assert_valid_page(response)
    assert "Page not found" in html and "Online services" in html
    assert f'href="{reverse("portal:home")}"' in html
    assert f'href="{reverse("portal:track_find")}"' in html
    # Not the staff 404: no link to the staff home, no word of departments.
    assert "your department can see" not in html


def test_the_portals_404_is_in_the_citizens_language(client, city):
    response = client.get("/portal/no-such-page/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="es">' in html
    assert "Página no encontrada" in html and "Buscar un servicio" in html


def test_a_portal_address_without_its_slash_still_finds_the_page(client, city):
    response = client.get("/portal/reports")
    assert response.status_code == 301 and response.url == reverse("portal:reports")


def test_other_unknown_paths_keep_the_staff_404(client, city):
    for path in ("/no-such-page/", "/portalish/"):
        response = client.get(path)
        assert response.status_code == 404
        html = assert_valid_page(response)
        assert "your department can see" in html and "Online services" not in html
