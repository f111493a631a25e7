"""The demo city's Open311 set-up: questions on its place-based services, a client key."""

from __future__ import annotations

import pytest

from civicloop.catalogue.models import ServiceAttribute
from civicloop.demo.open311 import ATTRIBUTES, demo_client_key, load_attributes
from civicloop.intake.keys import open311_client_for_key
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_place_based_services_get_questions_once():
    streets = f.DepartmentFactory(code="streets")
    for code in ATTRIBUTES:
        f.ServiceFactory(code=code, department=streets, place_based=True)
    first = load_attributes()
    assert first == sum(len(a) for a in ATTRIBUTES.values())
    assert load_attributes() == first and ServiceAttribute.objects.count() == first
    flytip = ServiceAttribute.objects.filter(service__code="STR-FLYTIP").order_by("order")
    assert [a.code for a in flytip] == ["safety", "items", "amount"]
    assert not flytip[0].variable and flytip[1].datatype == "multivaluelist"
    for attribute in ServiceAttribute.objects.all():
        attribute.full_clean()


def test_the_demo_key_works_and_is_issued_once():
    key = demo_client_key()
    assert open311_client_for_key(key) is not None
    assert demo_client_key() == ""
