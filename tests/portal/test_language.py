"""English and Spanish: the switcher works without JavaScript (a form posting to Django's
set_language), and the portal's words are translated."""

from __future__ import annotations

import pytest
from django.urls import reverse

from civicloop.cases.models import Case
from tests import factories as f
from tests.portal.conftest import Citizen, step_url
from tests.support import assert_valid_html

pytestmark = pytest.mark.django_db


def test_the_switcher_changes_the_language_and_returns_to_the_page(client, city):
    page = reverse("portal:service", args=["PTH"])
    html = client.get(page).content.decode()
    assert 'name="language" value="es"' in html and 'lang="es"' in html
    response = client.post(reverse("portal:set_language"), {"language": "es", "next": page})
    assert response.status_code == 302 and response["Location"] == page
    spanish = client.get(page).content.decode()
    assert_valid_html(spanish)
    assert '<html lang="es">' in spanish
    assert "Empezar ahora" in spanish and "Start now" not in spanish
    assert "Servicios en línea" in spanish


def test_a_spanish_speaker_reports_in_spanish_and_is_recorded_as_such(client, city):
    client.post(reverse("portal:set_language"), {"language": "es", "next": "/portal/"})
    citizen = Citizen(client)
    citizen.start(city.pothole)
    response = citizen.answer(step_url("location"), address="")
    html = response.content.decode()
    assert response.status_code == 422
    assert "Hay un problema" in html
    assert "Introduzca la dirección o el código postal del problema." in html
    citizen.report_pothole(city)
    citizen.send()
    assert Case.objects.get().reporter_language == "es"


def test_the_browser_language_is_followed_until_the_switcher_is_used(client, city):
    html = client.get(reverse("portal:home"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Buscar un servicio" in html


def test_a_report_page_in_spanish_shows_its_status_in_spanish(client, city):
    case = f.CaseFactory(
        service=city.pothole, person=None, latitude=51.5, longitude=-0.1, status="resolved"
    )
    html = client.get(
        reverse("portal:report_detail", args=[case.reference]), HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert "Resuelto" in html and "Referencia" in html
