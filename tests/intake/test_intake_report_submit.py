"""report_submit, the intake core of every public channel: a report becomes a case in the
service's department, placed by the gazetteer, or nothing is written."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from civicloop.cases.models import Attachment, Case, CaseEvent
from civicloop.core import clock
from civicloop.core.access import ValidationFailed
from civicloop.core.events import subscribe, unsubscribe
from civicloop.intake.models import PossibleDuplicate, ServiceRequestToken
from civicloop.intake.services import ReportIn, report_submit
from civicloop.linkage.matching import matchindex_update
from civicloop.trust.models import AuditEvent
from tests import factories as f
from tests.intake.intake_city import INSIDE, OUTSIDE, build_city

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    return build_city()


@pytest.fixture
def events():
    seen = []

    def record(event):
        seen.append(event)

    subscribe("*", record)
    yield seen
    unsubscribe("*", record)


def pothole(**fields) -> ReportIn:
    values = {
        "service_code": "STR-POTHOLE",
        "description": "Deep hole by the bus stop",
        "latitude": INSIDE[0],
        "longitude": INSIDE[1],
        "attributes": {"where": "road"},
        **fields,
    }
    return ReportIn(**values)


def counts() -> tuple[int, ...]:
    return (
        Case.objects.count(),
        CaseEvent.objects.count(),
        AuditEvent.objects.count(),
        ServiceRequestToken.objects.count(),
        Attachment.objects.count(),
    )


def test_a_report_opens_a_case_in_the_services_department(
    city, events, django_capture_on_commit_callbacks
):
    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with clock.frozen_at(at), django_capture_on_commit_callbacks(execute=True):
        receipt = report_submit(
            report=pothole(
                first_name="Rosa",
                last_name="Diaz",
                email="rosa@example.org",
                attributes={"where": "road", "depth_cm": "7.50", "hazards": ["water", "edge"]},
                language="es",
                notify_channel="email",
                contact_consent=True,
            ),
            channel="open311",
            client=city.client,
        )
    case = receipt.case
    assert case.department_id == city.streets.id and case.service_id == city.pothole.id
    assert case.status == "new" and case.channel == "open311"
    assert case.due_at == at + dt.timedelta(days=5)
    assert case.area_id == city.ward.id
    assert case.attributes == {"where": "road", "depth_cm": "7.5", "hazards": ["water", "edge"]}
    assert case.reporter_name == "Rosa Diaz" and case.reporter_email == "rosa@example.org"
    assert case.reporter_language == "es" and case.notify_channel == "email"
    assert case.person_id is None and not case.identity_review
    # Only the hash of the tracking secret is kept.
    assert case.tracking_token_hash == hashlib.sha256(receipt.tracking_secret.encode()).hexdigest()
    assert receipt.tracking_secret not in str(Case.objects.filter(pk=case.pk).values().get())
    audit = AuditEvent.objects.get(action="case.open")
    assert audit.object_ids == [case.id] and audit.actor_user_id is None
    assert audit.actor_role == "system" and "Rosa" not in str(audit.__dict__)
    names = [e.name for e in events]
    assert names == ["case.opened", "report.received"]
    received = events[1].data
    assert received == {
        "case_id": case.id,
        "tracking_secret": receipt.tracking_secret,
        "channel": "open311",
    }


def test_the_address_string_is_matched_against_the_gazetteer(city):
    receipt = report_submit(
        report=pothole(latitude=None, longitude=None, address_string="14 mill ln, Riverton"),
        channel="web",
    )
    assert receipt.case.address_id == city.mill_14.id
    assert (receipt.case.latitude, receipt.case.longitude) == (51.5002, -0.1002)


def test_an_address_id_places_the_report_at_the_address(city):
    receipt = report_submit(
        report=pothole(latitude=None, longitude=None, address_id="1004"), channel="open311"
    )
    assert receipt.case.address_id == city.flat_2.id and receipt.case.area_id == city.ward.id


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"service_code": "NO-SUCH"}, "service_code"),
        ({"service_code": "HLT-MENTAL"}, "service_code"),  # sensitive: never public
        ({"service_code": "STR-INTERNAL"}, "service_code"),  # not offered to the public
        ({"latitude": None, "longitude": None}, "location"),
        ({"latitude": OUTSIDE[0], "longitude": OUTSIDE[1]}, "location"),
        ({"latitude": None, "longitude": None, "address_id": "9999"}, "location"),
        ({"latitude": None, "longitude": None, "address_string": "1 Nowhere Road"}, "location"),
        ({"latitude": None, "longitude": None, "address_string": "12 Mill Lane"}, "location"),
        ({"attributes": {}}, "attribute[where]"),
        ({"attributes": {"where": "sky"}}, "attribute[where]"),
        ({"attributes": {"where": "road", "depth_cm": "deep"}}, "attribute[depth_cm]"),
        ({"attributes": {"where": "road", "seen": "yesterday"}}, "attribute[seen]"),
        ({"attributes": {"where": "road", "colour": "red"}}, "attribute[colour]"),
        ({"attributes": {"where": ["road", "pavement"]}}, "attribute[where]"),
        ({"description": "x" * 4001}, "description"),
        ({"media_url": "ftp://example.org/a.jpg"}, "media_url"),
        ({"media_url": "http://localhost/a.jpg"}, "media_url"),
        ({"media_url": "https://example.org/" + "a" * 1000}, "media_url"),
        ({"media_url": "javascript:alert(1)"}, "media_url"),
        ({"email": "not an email"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"notify_channel": "sms"}, "phone"),
        ({"notify_channel": "pigeon"}, "notify_channel"),
    ],
)
def test_bad_reports_name_the_problem_and_write_nothing(city, fields, field):
    before = counts()
    with pytest.raises(ValidationFailed) as failure:
        report_submit(report=pothole(**fields), channel="web")
    assert field in failure.value.errors, failure.value.errors
    assert counts() == before


def test_an_ambiguous_address_lists_what_it_could_be(city):
    with pytest.raises(ValidationFailed) as failure:
        report_submit(
            report=pothole(latitude=None, longitude=None, address_string="12 Mill Lane"),
            channel="web",
        )
    message = failure.value.errors["location"][0]
    assert "12 Mill Lane, Riverton, RV1 2AB" in message
    assert "12 Mill Lane, Eastfield, RV2 3CD" in message


def test_a_service_not_about_a_place_needs_no_location(city):
    receipt = report_submit(
        report=ReportIn(service_code="EMP-JOBS", description="Help with my CV"), channel="web"
    )
    assert receipt.case.latitude is None and receipt.case.department_id == city.jobs.department_id


def test_a_batch_service_answers_with_a_token_that_names_the_case(city):
    receipt = report_submit(
        report=ReportIn(service_code="STR-BINS", address_id="1001"),
        channel="open311",
        client=city.client,
    )
    assert receipt.token
    assert ServiceRequestToken.objects.get(token=receipt.token).case_id == receipt.case.id


def test_a_report_near_an_open_one_of_the_same_service_is_a_possible_duplicate(city):
    first = report_submit(report=pothole(), channel="web").case
    # About 30 m north: within the default 50 m.
    near = report_submit(report=pothole(latitude=INSIDE[0] + 0.00027), channel="web")
    assert [c.id for c in near.possible_duplicates] == [first.id]
    assert 25 < near.possible_duplicates[0].distance_m < 35
    assert PossibleDuplicate.objects.filter(case=near.case, candidate=first).exists()
    # 200 m away, another service, or a closed report: not duplicates.
    far = report_submit(report=pothole(latitude=INSIDE[0] + 0.0018), channel="web")
    assert far.possible_duplicates == []
    light = report_submit(
        report=ReportIn(service_code="STR-LIGHT", latitude=INSIDE[0], longitude=INSIDE[1]),
        channel="web",
    )
    assert light.possible_duplicates == []
    Case.objects.filter(pk__in=[first.id, near.case.id]).update(status="closed")
    again = report_submit(report=pothole(), channel="web")
    assert again.possible_duplicates == []


def test_the_duplicate_distance_comes_from_settings(city, settings):
    settings.CIVICLOOP = {**settings.CIVICLOOP, "DUPLICATE_DISTANCE_M": 10}
    report_submit(report=pothole(), channel="web")
    near = report_submit(report=pothole(latitude=INSIDE[0] + 0.00027), channel="web")
    assert near.possible_duplicates == []


def test_a_reporter_who_surely_is_a_known_person_is_linked(city):
    person = f.PersonFactory(
        given_name="Marguerite",
        family_name="Okonkwo-Blake",
        email="m.okonkwo.blake@example.org",
        phone="07700 900777",
    )
    f.serve(person, city.streets, email=person.email, phone=person.phone)
    matchindex_update([person.id])
    receipt = report_submit(
        report=pothole(
            first_name="Marguerite",
            last_name="Okonkwo-Blake",
            email="m.okonkwo.blake@example.org",
            phone="07700 900777",
        ),
        channel="web",
    )
    assert receipt.case.person_id == person.id and not receipt.case.identity_review
    match_audit = AuditEvent.objects.get(action="person.match")
    assert match_audit.object_ids == [person.id]


def test_a_reporter_who_only_may_be_a_known_person_is_left_for_review(city):
    person = f.PersonFactory(
        given_name="Marguerite",
        family_name="Okonkwo-Blake",
        email="m.okonkwo.blake@example.org",
        phone="07700 900777",
    )
    f.serve(person, city.streets, email=person.email, phone=person.phone)
    matchindex_update([person.id])
    # The same email under a different name: maybe her, maybe someone sharing her inbox.
    receipt = report_submit(
        report=pothole(
            first_name="Margaret", last_name="Okonkwo", email="m.okonkwo.blake@example.org"
        ),
        channel="web",
    )
    assert receipt.case.person_id is None
    assert receipt.case.identity_review
    assert receipt.case.reporter_email == "m.okonkwo.blake@example.org"


def test_attachments_are_stored_with_the_case(city, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    photo = SimpleUploadedFile("hole.jpg", b"\xff\xd8\xff photo", content_type="image/jpeg")
    receipt = report_submit(report=pothole(), channel="web", attachments=[photo])
    attachment = Attachment.objects.get(case=receipt.case)
    assert attachment.content_type == "image/jpeg" and attachment.size == len(b"\xff\xd8\xff photo")
    assert default_storage.exists(attachment.file.name)


def test_a_failed_report_leaves_no_file_behind(city, settings, tmp_path, monkeypatch):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    photos = [
        SimpleUploadedFile("one.jpg", b"one", content_type="image/jpeg"),
        SimpleUploadedFile("two.jpg", b"two", content_type="image/jpeg"),
    ]
    # The disk fills up while the second photo is written.
    original_save = FileSystemStorage._save
    calls = []

    def fail_second(self, name, content):
        calls.append(name)
        if len(calls) == 2:
            raise OSError("No space left on device")
        return original_save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", fail_second)
    before = counts()
    with pytest.raises(OSError):
        report_submit(report=pothole(), channel="web", attachments=photos)
    assert counts() == before
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_new_question_is_asked_at_once(city):
    report_submit(report=pothole(), channel="web")
    city.pothole.attributes.create(
        code="lane", datatype="string", required=True, order=9, description="Which lane?"
    )
    with pytest.raises(ValidationFailed) as failure:
        report_submit(report=pothole(), channel="web")
    assert "attribute[lane]" in failure.value.errors
