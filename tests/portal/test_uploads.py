"""Photos: JPEG, PNG or WebP by their content, under the size limit, re-encoded without
their metadata (no GPS position survives), and stored through the storage API with the
case. A refused upload gets the portal's error and writes nothing."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from civicloop.cases.models import Attachment, Case
from civicloop.portal.draft import SESSION_KEY
from civicloop.portal.uploads import PhotoRejected, clean_photo
from tests.portal.conftest import Citizen, form_data, jpeg_bytes, step_url
from tests.support import assert_valid_html

pytestmark = pytest.mark.django_db


def media_files() -> list[Path]:
    root = Path(django_settings.STORAGES["default"]["OPTIONS"]["location"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def upload(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type)


def image_bytes(fmt: str, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (40, 30), (10, 120, 200) if mode == "RGB" else (10, 120, 200, 128)).save(
        out, fmt
    )
    return out.getvalue()


def test_gps_and_camera_details_are_stripped():
    original = jpeg_bytes(gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825), "the test photo has GPS"
    photo = clean_photo(upload("IMG_0001.JPG", original))
    cleaned = Image.open(io.BytesIO(photo.content))
    assert cleaned.format == "JPEG" and photo.content_type == "image/jpeg"
    assert not cleaned.getexif(), "no EXIF at all"
    assert "exif" not in cleaned.info and "xmp" not in cleaned.info
    assert b"Phone Camera 9000" not in photo.content and b"GPS" not in photo.content
    assert cleaned.size == (64, 48)


@pytest.mark.parametrize(
    "fmt, mode, content_type",
    [("PNG", "RGBA", "image/png"), ("WEBP", "RGB", "image/webp"), ("PNG", "P", "image/png")],
)
def test_png_and_webp_are_accepted_in_their_own_format(fmt, mode, content_type):
    content = image_bytes(fmt, "RGB" if mode == "P" else mode)
    if mode == "P":
        out = io.BytesIO()
        Image.open(io.BytesIO(content)).convert("P").save(out, fmt)
        content = out.getvalue()
    photo = clean_photo(upload("picture", content, "application/octet-stream"))
    assert photo.content_type == content_type
    assert Image.open(io.BytesIO(photo.content)).format == fmt


def test_type_is_judged_by_content_not_by_name():
    with pytest.raises(PhotoRejected, match="JPEG, PNG or WebP"):
        clean_photo(upload("holiday.jpg", b"%PDF-1.7 not a picture at all"))
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    with pytest.raises(PhotoRejected, match="JPEG, PNG or WebP"):
        clean_photo(upload("photo.png", gif.getvalue(), "image/png"))
    # A JPEG called .txt is a JPEG.
    assert clean_photo(upload("notes.txt", jpeg_bytes(), "text/plain")).extension == "jpg"


def test_a_broken_image_is_refused():
    truncated = jpeg_bytes(size=(400, 300))[:200]
    with pytest.raises(PhotoRejected, match="could not be read"):
        clean_photo(upload("broken.jpg", truncated))


def test_large_photos_are_shrunk(settings):
    settings.CIVICLOOP = {**settings.CIVICLOOP, "PORTAL_MAX_PHOTO_SIDE": 100}
    photo = clean_photo(upload("big.jpg", jpeg_bytes(size=(800, 400))))
    assert (photo.width, photo.height) == (100, 50)


def go_to_photo_page(client, city) -> Citizen:
    citizen = Citizen(client)
    citizen.report_pothole(city)
    return citizen


def post_photo(client, content: bytes, name: str = "photo.jpg", content_type="image/jpeg"):
    return client.post(
        step_url("photo"), {**form_data(), "photo": upload(name, content, content_type)}
    )


def test_a_photo_goes_with_the_report_without_its_location(client, city):
    go_to_photo_page(client, city)
    response = post_photo(client, jpeg_bytes(gps=True))
    assert response.status_code == 302
    [waiting] = media_files()
    assert "portal-drafts" in str(waiting)
    assert b"GPS" not in waiting.read_bytes()
    page = client.get(step_url("photo")).content.decode()
    assert "You have added a photo" in page

    Citizen(client).send()
    case = Case.objects.get()
    [attachment] = Attachment.objects.filter(case=case)
    assert attachment.content_type == "image/jpeg" and attachment.public
    stored = attachment.file.read()
    assert not Image.open(io.BytesIO(stored)).getexif()
    assert [p.name for p in media_files()] == [Path(attachment.file.name).name], (
        "the waiting copy is gone once the report has it"
    )

    public = client.get(reverse("portal:report_detail", args=[case.reference]))
    photo_url = reverse("portal:report_photo", args=[case.reference, attachment.id])
    assert photo_url in public.content.decode()
    served = client.get(photo_url)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert b"".join(served.streaming_content) == stored


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"MZ\x90\x00 an executable", "pothole.jpg", "must be a JPEG, PNG or WebP image"),
        (b"", "empty.jpg", "The selected file is empty"),
    ],
)
def test_a_wrong_upload_gets_an_error_and_writes_nothing(client, city, content, name, message):
    go_to_photo_page(client, city)
    before = dict(client.session[SESSION_KEY])
    response = post_photo(client, content, name)
    assert response.status_code == 422
    html = response.content.decode()
    assert_valid_html(html)
    assert 'href="#id_photo"' in html and message in html
    assert media_files() == []
    assert dict(client.session[SESSION_KEY]) == before


def test_an_oversized_upload_gets_an_error_and_writes_nothing(client, city, settings):
    settings.CIVICLOOP = {**settings.CIVICLOOP, "PORTAL_MAX_PHOTO_BYTES": 50_000}
    go_to_photo_page(client, city)
    before = dict(client.session[SESSION_KEY])
    big = jpeg_bytes() + b"\x00" * 60_000  # a real JPEG header, too many bytes
    response = post_photo(client, big)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'href="#id_photo"' in html
    assert "The photo must be smaller than" in html
    assert media_files() == []
    assert dict(client.session[SESSION_KEY]) == before


def test_a_photo_can_be_removed_before_sending(client, city):
    go_to_photo_page(client, city)
    post_photo(client, jpeg_bytes())
    assert len(media_files()) == 1
    response = client.post(step_url("photo"), form_data(action="remove"))
    assert response.status_code == 302
    assert media_files() == []
    assert "photo" not in client.session[SESSION_KEY]


def test_a_photo_of_a_report_that_is_not_public_is_not_served(client, city):
    citizen = Citizen(client)
    citizen.start(city.repair)
    citizen.answer(step_url("description"), description="Leak under the sink.")
    post_photo(client, jpeg_bytes())
    citizen.answer(step_url("updates"), notify_channel="none")
    citizen.answer(step_url("contact"), name="Ada Tenant", email="ada@example.net", phone="")
    citizen.send()
    case = Case.objects.get()
    attachment = Attachment.objects.get(case=case)
    url = reverse("portal:report_photo", args=[case.reference, attachment.id])
    assert client.get(url).status_code == 404


def test_photos_of_reports_never_sent_are_purged(client, city):
    go_to_photo_page(client, city)
    post_photo(client, jpeg_bytes())
    [waiting] = media_files()
    call_command("portal_purge_drafts", stdout=io.StringIO())
    assert media_files() == [waiting], "a recent photo is kept"
    old = time.time() - 25 * 3600
    os.utime(waiting, (old, old))
    out = io.StringIO()
    call_command("portal_purge_drafts", stdout=out)
    assert media_files() == []
    assert "Deleted 1 photo" in out.getvalue()
