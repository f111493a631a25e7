"""A service's questions (Open311 attributes) are checked when an admin saves them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from civicloop.catalogue.models import ServiceAttribute
from tests import factories as f

pytestmark = pytest.mark.django_db


def attribute(**fields) -> ServiceAttribute:
    values = {
        "service": f.ServiceFactory(),
        "code": "size",
        "datatype": "singlevaluelist",
        "description": "How big?",
        "values": [{"key": "s", "name": "Small"}, {"key": "l", "name": "Large"}],
        **fields,
    }
    return ServiceAttribute(**values)


def test_a_good_list_question_passes():
    question = attribute()
    question.full_clean()
    assert question.value_keys() == ["s", "l"] and question.is_list


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"code": "has space"}, "code"),
        ({"values": []}, "values"),
        ({"values": [{"key": "s"}]}, "values"),
        ({"values": [{"key": "s", "name": "A"}, {"key": "s", "name": "B"}]}, "values"),
        ({"values": "s,l"}, "values"),
        ({"datatype": "number"}, "values"),  # choices on a question that has none
    ],
)
def test_bad_questions_are_refused(fields, field):
    with pytest.raises(ValidationError) as error:
        attribute(**fields).full_clean()
    assert field in error.value.message_dict


def test_codes_are_unique_within_a_service():
    question = attribute()
    question.save()
    with pytest.raises(ValidationError):
        attribute(service=question.service).validate_constraints()
