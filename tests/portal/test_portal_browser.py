"""Every portal page in a real Chromium with JavaScript off, in English and in Spanish:
valid HTML and zero axe-core violations (WCAG 2.2 AA), error pages included. The pages are
reached as a citizen reaches them, by following links and sending forms."""

from __future__ import annotations

import pytest
from django.urls import reverse

from civicloop.cases.models import Case
from civicloop.cases.services import case_transition
from civicloop.core.access import Viewer
from tests import factories as f
from tests.portal.conftest import build_city, jpeg_bytes
from tests.support import assert_no_axe_violations, assert_valid_html

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live_city(transactional_db):
    return build_city()


class Visit:
    """A citizen's browser on the live server, checking each page as it arrives."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base = base_url
        self.checked: list[str] = []

    def check(self, response, status: int = 200) -> None:
        assert response is not None, "no response"
        assert response.status == status, f"{self.page.url}: {response.status}"
        assert_valid_html(response.text())
        assert_no_axe_violations(self.page)
        self.checked.append(f"{status} {self.page.url}")

    def open(self, path: str, status: int = 200) -> None:
        self.check(self.page.goto(self.base + path), status)

    def send(self, status: int = 200, *, button: int = -1) -> None:
        """Press a submit button of the main content (the last one unless told)."""
        with self.page.expect_navigation() as navigation:
            self.page.locator("main button[type=submit]").nth(button).click()
        self.check(navigation.value, status)


def resolve(case: Case, worker) -> None:
    viewer = Viewer(
        user_id=worker.user_id,
        role="caseworker",
        department_ids=frozenset({case.department_id}),
        staff_id=worker.id,
    )
    case_transition(viewer=viewer, case_id=case.id, to_status="resolved", version=None)


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_portal_page_has_no_axe_violations(
    live_city, live_server, page_no_js, tmp_path, settings, language
):
    city = live_city
    nearby = f.CaseFactory(
        service=city.pothole,
        person=None,
        description="Hole by the bus stop",
        latitude=city.high_street[1].latitude,
        longitude=city.high_street[1].longitude,
        address=city.high_street[1],
        area=city.ward,
    )
    page = page_no_js
    visit = Visit(page, live_server.url)

    visit.open(reverse("portal:home"))
    if language == "es":
        with page.expect_navigation():
            page.locator("button[name=language][value=es]").click()
        assert page.locator("html").get_attribute("lang") == "es"
        visit.check(page.reload())

    # Finding the service
    page.fill("#id_q", "")
    visit.send(422)
    page.fill("#id_q", "pothole")
    visit.send()
    visit.open(reverse("portal:department", args=["streets"]))
    visit.open(reverse("portal:service", args=["PTH"]))
    visit.send()  # start now: the location page

    # Where
    visit.send(422)  # no address
    page.fill("#id_address", "12 High Street")
    visit.send()  # the address to confirm
    visit.open(reverse("portal:report_step", args=["coordinates"]))
    page.fill("#id_latitude", "north")
    visit.send(422)
    visit.open(reverse("portal:report_step", args=["location-confirm"]))
    page.check("#id_address_id_0")
    visit.send()  # is it the same problem?
    assert nearby.reference in page.content()
    visit.send(422)
    page.locator("input[name=same_as][value=no]").check()
    visit.send()  # the service's own question

    # The service's question, description, photo
    visit.send(422)
    page.locator("input[name=answer][value=deep]").check()
    visit.send()
    visit.send(422)  # no description
    page.fill("#id_description", "A deep hole in the cycle lane.")
    visit.send()
    bad = tmp_path / "notes.jpg"
    bad.write_bytes(b"not a picture")
    page.set_input_files("#id_photo", str(bad))
    visit.send(422)
    photo = tmp_path / "hole.jpg"
    photo.write_bytes(jpeg_bytes(gps=True))
    page.set_input_files("#id_photo", str(photo))
    visit.send()  # may we contact you?
    visit.open(reverse("portal:report_step", args=["photo"]))  # with the photo added
    visit.open(reverse("portal:report_step", args=["updates"]))

    # Contact
    visit.send(422)
    page.locator("input[name=notify_channel][value=email]").check()
    visit.send()
    page.fill("#id_email", "not an email")
    visit.send(422)
    page.fill("#id_name", "Sam Reporter")
    page.fill("#id_email", "sam@example.net")
    visit.send()  # check your answers
    visit.send()  # sent: the confirmation
    case = Case.objects.get(reporter_email="sam@example.net")
    assert case.reference in page.content()

    # Following it
    with page.expect_navigation() as navigation:
        page.locator("main a[href*='/portal/track/']").click()
    visit.check(navigation.value)
    own_page = page.url.removeprefix(live_server.url)
    visit.send(422)  # an empty update
    resolve(case, city.worker)
    visit.open(own_page)  # now resolved: is it fixed?
    visit.send(422, button=0)  # no answer
    page.locator("input[name=fixed][value=no]").check()
    visit.send(button=0)  # what is still wrong?
    visit.send(422)
    page.fill("#id_reason", "The patch has already gone.")
    visit.send()

    # The public side
    visit.open(reverse("portal:reports"))
    visit.open(reverse("portal:reports") + "?service=NOPE", 422)
    visit.open(reverse("portal:report_detail", args=[case.reference]))
    visit.open(reverse("portal:track", args=[case.reference]) + "?t=wrong")
    visit.open(reverse("portal:track_find"))
    page.fill("#id_reference", "CL-0000-0000")
    visit.send(422)
    visit.open("/portal/reports/CL-NOPE-NOPE/", 404)
    visit.open(reverse("portal:report_check"))  # nothing in progress: start again
    settings.CIVICLOOP = {**settings.CIVICLOOP, "RATE_LIMITS": {"default": "0/minute"}}
    visit.open(reverse("portal:service_search") + "?q=pothole", 429)
    assert len(visit.checked) >= 40, visit.checked


def test_the_error_summary_takes_the_keyboard_to_the_field(live_city, live_server, page_no_js):
    page = page_no_js
    page.goto(live_server.url + reverse("portal:service", args=["PTH"]))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"
    page.keyboard.press("Tab")  # past the honeypot, which is out of the tab order
    assert page.evaluate("document.activeElement.textContent") == "Start now"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the skip link again
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_address"
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # "Find the address", with no address given
    link = page.locator(".error-summary a")
    assert link.get_attribute("href") == "#id_address"
    link.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "id_address"
