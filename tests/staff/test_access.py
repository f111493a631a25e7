"""Who may open which staff page, and what a refusal looks like: 401 with the sign-in form,
403 for the wrong role or no staff record, 404 for what the viewer may not see. Every refusal
is audited."""

import re

import pytest
from django.urls import reverse

from civicloop.trust.models import AuditEvent
from tests import factories as f
from tests.staff.html import assert_valid_page
from tests.staff.pages import all_pages, casework_pages, post_only_urls

pytestmark = pytest.mark.django_db


def denials():
    return list(AuditEvent.objects.filter(action="access.denied").order_by("id"))


def test_every_page_renders_for_a_caseworker_as_valid_html(world, client_for):
    client = client_for(world.housing_worker)
    for name, url in all_pages(world):
        response = client.get(url)
        assert response.status_code == 200, name
        assert_valid_page(response)


def test_every_page_renders_for_a_supervisor(world, client_for):
    client = client_for(world.housing_supervisor)
    for name, url in all_pages(world):
        assert client.get(url).status_code == 200, name


def test_anonymous_visitors_get_the_sign_in_form_with_401_and_are_audited(world, client):
    for name, url in all_pages(world):
        before = len(denials())
        response = client.get(url)
        assert response.status_code == 401, name
        html = assert_valid_page(response)
        login = reverse("staff:login")
        assert re.search(rf'<form method="post" action="{login}"', html), name
        assert f'name="next" value="{url.replace("&", "&amp;")}"' in html, name
        assert 'name="username"' in html and 'name="password"' in html
        assert "Okafor" not in html.replace('value="/people/?name=Okafor"', "")
        new = denials()[before:]
        assert [(e.outcome, e.actor_role) for e in new] == [("unauthenticated", "anonymous")], name


def test_anonymous_post_is_401_and_changes_nothing(world, client):
    case_page = reverse("staff:case_detail", args=[world.housing_case.id])
    for url in post_only_urls(world):
        response = client.post(
            url, {"note-note": "hello"}, HTTP_REFERER=f"http://testserver{case_page}"
        )
        assert response.status_code == 401
        # After signing in, back to the page the form was on, not to the POST-only URL.
        assert f'name="next" value="{case_page}"' in response.content.decode()
        response = client.post(url, {}, HTTP_REFERER="https://elsewhere.example/")
        assert f'name="next" value="{reverse("staff:home")}"' in response.content.decode()
    assert not world.housing_case.events.filter(kind="note").exists()


def test_signed_in_user_who_is_not_staff_gets_403(world, client_for):
    client = client_for(f.UserFactory(username="citizen"))
    for name, url in all_pages(world):
        response = client.get(url)
        assert response.status_code == 403, name
        assert_valid_page(response)
    assert denials()[-1].outcome == "forbidden"


def test_inactive_staff_member_gets_403(world, client_for):
    world.housing_worker.active = False
    world.housing_worker.save()
    client = client_for(world.housing_worker)
    assert client.get(reverse("staff:home")).status_code == 403
    assert client.get(reverse("staff:person_detail", args=[world.alice.id])).status_code == 403


@pytest.mark.parametrize("who", ["analyst", "admin"])
def test_analysts_and_admins_get_403_on_every_person_and_case_page(world, client_for, who):
    client = client_for(getattr(world, who))
    for name, url in casework_pages(world):
        before = len(denials())
        response = client.get(url)
        assert response.status_code == 403, name
        html = assert_valid_page(response)
        assert "Okafor" not in html.replace("name=Okafor", "")
        assert [e.outcome for e in denials()[before:]] == ["forbidden"], name
    for url in post_only_urls(world):
        assert client.post(url, {}).status_code == 403


def test_caseworker_of_a_department_not_serving_the_person_gets_404(world, client_for):
    client = client_for(world.childcare_worker)
    alice = world.alice.id
    for url in [
        reverse("staff:person_detail", args=[alice]),
        reverse("staff:need_record", args=[alice]),
        reverse("staff:person_contact", args=[alice]),
    ]:
        before = len(denials())
        response = client.get(url)
        assert response.status_code == 404, url
        html = assert_valid_page(response)
        assert "Okafor" not in html
        [event] = denials()[before:]
        assert event.outcome == "not_found" and event.object_ids == [alice]


@pytest.mark.parametrize("case_attr", ["employment_case", "health_case"])
def test_another_departments_case_is_404_on_every_case_page(world, client_for, case_attr):
    client = client_for(world.housing_worker)
    case = getattr(world, case_attr)
    for name in ("case_detail", "case_contact"):
        response = client.get(reverse(f"staff:{name}", args=[case.id]))
        assert response.status_code == 404, name
        assert case.description not in response.content.decode()
    for name in ("case_transition", "case_assign", "case_note"):
        response = client.post(
            reverse(f"staff:{name}", args=[case.id]),
            {
                "transition-to_status": "in_progress",
                "transition-version": case.version,
                "assign-assignee": world.housing_worker.id,
                "assign-version": case.version,
                "note-note": "Sneaky",
            },
        )
        assert response.status_code == 404, name
    case.refresh_from_db()
    assert case.status == "new" and case.assignee_id is None
    assert not case.events.filter(note="Sneaky").exists()


def test_a_person_or_case_that_does_not_exist_is_404(world, client_for):
    client = client_for(world.housing_worker)
    assert client.get(reverse("staff:person_detail", args=[999999])).status_code == 404
    assert client.get(reverse("staff:case_detail", args=[999999])).status_code == 404


def test_post_only_urls_refuse_get(world, client_for):
    client = client_for(world.housing_worker)
    for url in post_only_urls(world):
        assert client.get(url).status_code == 405


def test_unknown_url_renders_the_not_found_page(world, client_for):
    response = client_for(world.housing_worker).get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in assert_valid_page(response)
