"""Every page request that reads or writes personal data leaves exactly one audit event."""

import pytest
from django.urls import reverse

from civicloop.trust.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_each_request_writes_one_audit_event(world, client_for):
    client = client_for(world.housing_worker)
    case = world.housing_case
    requests = [
        ("get", reverse("staff:person_search"), {"name": "Okafor"}),
        ("get", reverse("staff:person_detail", args=[world.alice.id]), {}),
        ("get", reverse("staff:case_queue"), {}),
        ("get", reverse("staff:case_detail", args=[case.id]), {}),
        (
            "post",
            reverse("staff:case_transition", args=[case.id]),
            {"transition-to_status": "in_progress", "transition-version": case.version},
        ),
        ("post", reverse("staff:case_note", args=[case.id]), {"note-note": "Rang the landlord"}),
    ]
    for method, url, data in requests:
        before = AuditEvent.objects.count()
        response = getattr(client, method)(url, data)
        assert response.status_code in (200, 302), (url, response.status_code)
        actions = list(AuditEvent.objects.order_by("id")[before:].values_list("action", flat=True))
        assert len(actions) == 1, (method, url, actions)
