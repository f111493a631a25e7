"""A small city for intake tests: a streets department with place-based services and their
questions, a gazetteer of a few addresses in one ward, and an Open311 client key."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from civicloop.catalogue.models import Service, ServiceAttribute
from civicloop.core.access import Viewer
from civicloop.intake.keys import open311_client_create
from civicloop.places.models import Address, Area
from tests import factories as f

# The ward: a square around Riverton's centre (lon -0.2..0.0, lat 51.4..51.6).
INSIDE = (51.5, -0.1)
OUTSIDE = (52.5, -1.5)


@dataclass
class IntakeCity:
    streets: object
    pothole: Service
    bins: Service
    lights: Service
    jobs: Service
    secret_service: Service
    hidden_service: Service
    ward: Area
    mill_12: Address
    mill_14: Address
    mill_12_eastfield: Address
    flat_2: Address
    key: str
    client: object
    caseworker: object
    other_worker: object

    def viewer(self, staff) -> Viewer:
        return Viewer(
            user_id=staff.user_id,
            role=staff.role,
            department_ids=frozenset(staff.departments.values_list("id", flat=True)),
            staff_id=staff.id,
        )


def _address(uprn: str, line1: str, lat: float, lon: float, ward: Area, **extra) -> Address:
    return Address.objects.create(
        uprn=uprn,
        line1=line1,
        town=extra.pop("town", "Riverton"),
        postcode=extra.pop("postcode", "RV1 2AB"),
        latitude=lat,
        longitude=lon,
        area=ward,
        **extra,
    )


def _user(username: str):
    # Nobody signs in by password here: no slow hashing.
    return get_user_model().objects.create(username=username, password="!")


def build_city() -> IntakeCity:
    streets = f.DepartmentFactory(code="streets", name="Streets")
    employment = f.DepartmentFactory(code="employment", name="Employment")
    health = f.DepartmentFactory(code="health", name="Health")
    pothole = f.ServiceFactory(
        code="STR-POTHOLE",
        name="Pothole",
        department=streets,
        place_based=True,
        group="Roads",
        keywords="pothole, road",
        sla_days=5,
    )
    ServiceAttribute.objects.create(
        service=pothole,
        code="where",
        datatype="singlevaluelist",
        required=True,
        order=1,
        description="Where is the pothole?",
        values=[{"key": "road", "name": "In the road"}, {"key": "pavement", "name": "Pavement"}],
    )
    ServiceAttribute.objects.create(
        service=pothole,
        code="depth_cm",
        datatype="number",
        order=2,
        description="How deep, in centimetres?",
        datatype_description="A number",
    )
    ServiceAttribute.objects.create(
        service=pothole,
        code="hazards",
        datatype="multivaluelist",
        order=3,
        description="Anything else?",
        values=[{"key": "water", "name": "Full of water"}, {"key": "edge", "name": "Sharp edge"}],
    )
    ServiceAttribute.objects.create(
        service=pothole,
        code="seen",
        datatype="datetime",
        order=4,
        description="When did you see it?",
    )
    ServiceAttribute.objects.create(
        service=pothole,
        code="note",
        variable=False,
        datatype="text",
        order=5,
        description="Call 999 if someone is hurt.",
    )
    bins = f.ServiceFactory(
        code="STR-BINS", name="Missed bin", department=streets, place_based=True, kind="batch"
    )
    lights = f.ServiceFactory(
        code="STR-LIGHT", name="Street light", department=streets, place_based=True
    )
    jobs = f.ServiceFactory(code="EMP-JOBS", name="Job search support", department=employment)
    secret_service = f.ServiceFactory(
        code="HLT-MENTAL", name="Mental health", department=health, sensitive=True
    )
    hidden_service = f.ServiceFactory(
        code="STR-INTERNAL", name="Depot check", department=streets, public=False
    )
    ward = f.AreaFactory(code="RV-W01", name="Millbrook")
    mill_12 = _address("1001", "12 Mill Lane", 51.5001, -0.1001, ward)
    mill_14 = _address("1002", "14 Mill Lane", 51.5002, -0.1002, ward)
    # The same street name in another town of the agency.
    mill_12_eastfield = _address(
        "1003", "12 Mill Lane", 51.52, -0.12, ward, town="Eastfield", postcode="RV2 3CD"
    )
    flat_2 = _address("1004", "Flat 2, Oak House", 51.51, -0.11, ward, line2="45 Mill Lane")
    client, key = open311_client_create(viewer=Viewer.system("test"), name="Test app")
    caseworker = f.StaffFactory(user=_user("streets.worker"), departments=[streets])
    other_worker = f.StaffFactory(user=_user("employment.worker"), departments=[employment])
    return IntakeCity(
        streets=streets,
        pothole=pothole,
        bins=bins,
        lights=lights,
        jobs=jobs,
        secret_service=secret_service,
        hidden_service=hidden_service,
        ward=ward,
        mill_12=mill_12,
        mill_14=mill_14,
        mill_12_eastfield=mill_12_eastfield,
        flat_2=flat_2,
        key=key,
        client=client,
        caseworker=caseworker,
        other_worker=other_worker,
    )
