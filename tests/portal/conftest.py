"""A small city for the portal: a streets department with a pothole service (a place-based
service with its own questions), a housing repair service (not place-based), services the
public must never see, a ward and a street of addresses; and helpers that post a portal
form as a person would (with its timer and an empty honeypot)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from civicloop.catalogue.models import ServiceAttribute
from civicloop.portal import guard
from tests import factories as f


@dataclass
class City:
    streets: object
    housing: object
    health: object
    pothole: object
    lights: object
    repair: object
    clinic: object
    hidden: object
    retired: object
    ward: object
    high_street: list
    worker: object


def build_city() -> City:
    streets = f.DepartmentFactory(code="streets", name="Streets and Roads")
    housing = f.DepartmentFactory(code="housing", name="Housing")
    health = f.DepartmentFactory(code="health", name="Health")
    pothole = f.ServiceFactory(
        code="PTH",
        name="Pothole",
        department=streets,
        place_based=True,
        keywords="road, hole, tarmac",
        description="Report a pothole in a street, road or pavement.",
    )
    ServiceAttribute.objects.create(
        service=pothole,
        code="depth",
        datatype=ServiceAttribute.Datatype.SINGLE,
        required=True,
        order=1,
        description="How deep is it?",
        values=[
            {"key": "shallow", "name": "Shallower than a hand"},
            {"key": "deep", "name": "Deeper than a hand"},
        ],
    )
    ServiceAttribute.objects.create(
        service=pothole,
        code="safety",
        variable=False,
        order=2,
        description="If the hole is dangerous now, call us on 0300 000 000.",
    )
    lights = f.ServiceFactory(
        code="LGT",
        name="Street light not working",
        department=streets,
        place_based=True,
        keywords="lamp, lighting",
        description="A street light that is out or flickering.",
    )
    repair = f.ServiceFactory(
        code="HSG-REPAIR",
        name="Housing repair",
        department=housing,
        description="Ask for a repair to your council home: a leak, heating, a broken door.",
    )
    clinic = f.ServiceFactory(
        code="HLT-MENTAL",
        name="Mental health support",
        department=health,
        sensitive=True,
        keywords="pothole",
    )
    hidden = f.ServiceFactory(
        code="INT-ROADS", name="Road inspection rota", department=streets, public=False
    )
    retired = f.ServiceFactory(
        code="OLD-POTHOLE", name="Pothole (old form)", department=streets, active=False
    )
    ward = f.AreaFactory(code="W01", name="Riverside")
    high_street = [
        f.AddressFactory(
            line1=f"{n} High Street",
            postcode="RV1 1AB",
            latitude=51.5 + n / 100000,
            longitude=-0.1,
            area=ward,
        )
        for n in (10, 12, 14)
    ]
    worker = f.StaffFactory(role="caseworker", departments=[streets])
    return City(
        streets=streets,
        housing=housing,
        health=health,
        pothole=pothole,
        lights=lights,
        repair=repair,
        clinic=clinic,
        hidden=hidden,
        retired=retired,
        ward=ward,
        high_street=high_street,
        worker=worker,
    )


@pytest.fixture
def city(db):
    return build_city()


@pytest.fixture(autouse=True)
def portal_settings(settings, tmp_path):
    """No wait before a form may be sent (tests are quicker than people), media in a
    temporary folder, and generous rate limits unless a test sets its own."""
    settings.CIVICLOOP = {
        **settings.CIVICLOOP,
        "PORTAL_MIN_FORM_SECONDS": 0,
        "RATE_LIMITS": {"default": "1000/minute"},
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings


def form_data(**fields) -> dict:
    """A portal form as a browser sends it: the fields, a timer token, an empty honeypot."""
    return {guard.STARTED_FIELD: guard.started_token(), guard.HONEYPOT_FIELD: "", **fields}


def step_url(step: str) -> str:
    return reverse("portal:report_step", args=[step])


def jpeg_bytes(*, size=(64, 48), gps: bool = False, colour=(200, 40, 40)) -> bytes:
    """A small JPEG; with `gps`, carrying EXIF with a GPS position and a camera model."""
    image = Image.new("RGB", size, colour)
    out = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x0110] = "Phone Camera 9000"  # Model
        gps_ifd = exif.get_ifd(0x8825)
        gps_ifd[1] = "N"
        gps_ifd[2] = (51.0, 30.0, 15.5)
        gps_ifd[3] = "W"
        gps_ifd[4] = (0.0, 7.0, 39.0)
        image.save(out, "JPEG", exif=exif)
    else:
        image.save(out, "JPEG")
    return out.getvalue()


class Citizen:
    """A citizen filling in the portal with Django's test client."""

    def __init__(self, client: Client | None = None):
        self.client = client or Client()

    def start(self, service) -> object:
        return self.client.post(reverse("portal:report_start", args=[service.code]), form_data())

    def answer(self, url: str, **fields):
        return self.client.post(url, form_data(**fields))

    def report_pothole(self, city, *, email="sam@example.net", notify="email", same_as=None):
        """Answer every page of a pothole report up to the check page."""
        self.start(city.pothole)
        self.answer(step_url("location"), address="12 High Street")
        address = city.high_street[1]
        self.answer(step_url("location-confirm"), address_id=str(address.id))
        if same_as is not None:
            self.answer(step_url("duplicates"), same_as=same_as)
        else:
            self.client.get(step_url("duplicates"))
        self.answer(reverse("portal:report_question", args=["depth"]), answer="deep")
        self.answer(step_url("description"), description="A deep hole by the bus stop.")
        self.answer(step_url("photo"))
        self.answer(step_url("updates"), notify_channel=notify)
        return self.answer(step_url("contact"), name="Sam Reporter", email=email, phone="")

    def send(self):
        return self.client.post(reverse("portal:report_check"), form_data())
