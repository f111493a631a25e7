"""Photos in S3-compatible object storage, configured by CIVICLOOP_S3_* alone.

The bucket is served by moto's S3 server on a loopback port: a real HTTP server speaking
the S3 API, so the portal's upload, send, serve and purge paths make the same requests
they would make to MinIO, Ceph or Amazon S3. A configuration that cannot work stops the
app at start-up with a message that says what to fix.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass

import boto3
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from moto.server import ThreadedMotoServer
from PIL import Image
from storages.backends.s3 import S3Storage

from civicloop.cases.models import Attachment, Case
from civicloop.core import clock
from civicloop.portal.draft import SESSION_KEY
from civicloop.settings import S3_VARIABLES, s3_storage
from tests.portal.conftest import Citizen, form_data, jpeg_bytes, step_url

pytestmark = pytest.mark.django_db

REGION = "eu-west-2"
PREFIX = "riverton/uploads"
PUBLIC_GROUPS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)


@pytest.fixture(scope="module")
def s3_endpoint():
    """An S3-compatible server on a free loopback port, for this module's tests."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Bucket:
    name: str
    client: object

    def keys(self, under: str = "") -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.name, Prefix=f"{PREFIX}/{under}")
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


@pytest.fixture
def bucket(s3_endpoint, settings, tmp_path) -> Bucket:
    """A new, empty bucket, and STORAGES["default"] made from the environment variables an
    agency would set (the portal fixtures had pointed it at a temporary folder)."""
    name = f"civicloop-{uuid.uuid4().hex[:12]}"
    environ = {
        "CIVICLOOP_S3_BUCKET": name,
        "CIVICLOOP_S3_ENDPOINT_URL": s3_endpoint,
        "CIVICLOOP_S3_REGION": REGION,
        "CIVICLOOP_S3_ACCESS_KEY": "civicloop-test-key",
        "CIVICLOOP_S3_SECRET_KEY": "civicloop-test-secret",
        "CIVICLOOP_S3_PREFIX": f"/{PREFIX}/",
    }
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        aws_access_key_id="civicloop-test-key",
        aws_secret_access_key="civicloop-test-secret",
    )
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    # Changing STORAGES through the settings fixture sends setting_changed, which makes
    # Django forget the storage it built before.
    settings.STORAGES = {**settings.STORAGES, "default": s3_storage(environ)}
    assert isinstance(default_storage, S3Storage)
    yield Bucket(name=name, client=client)
    assert not (tmp_path / "media").exists(), "nothing was written to the local disk"


def post_photo(client, content: bytes):
    upload = SimpleUploadedFile("IMG_0001.JPG", content, "image/jpeg")
    return client.post(step_url("photo"), {**form_data(), "photo": upload})


def test_a_photo_is_kept_in_the_bucket_without_its_location_and_served_back(client, city, bucket):
    original = jpeg_bytes(gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825), "the test photo has GPS"
    Citizen(client).report_pothole(city)
    assert post_photo(client, original).status_code == 302

    [waiting] = bucket.keys()
    assert waiting.startswith(f"{PREFIX}/portal-drafts/")
    stored = bucket.read(waiting)
    assert not Image.open(io.BytesIO(stored)).getexif()
    assert b"GPS" not in stored and b"Phone Camera 9000" not in stored
    head = bucket.client.head_object(Bucket=bucket.name, Key=waiting)
    assert head["ContentType"] == "image/jpeg"
    grants = bucket.client.get_object_acl(Bucket=bucket.name, Key=waiting)["Grants"]
    assert not [g for g in grants if g["Grantee"].get("URI") in PUBLIC_GROUPS], grants

    Citizen(client).send()
    case = Case.objects.get()
    [attachment] = Attachment.objects.filter(case=case)
    today = clock.now()
    assert bucket.keys() == [f"{PREFIX}/{attachment.file.name}"], (
        "the waiting copy is gone once the report has it"
    )
    assert attachment.file.name.startswith(f"case-media/{today:%Y}/{today:%m}/")
    assert bucket.read(f"{PREFIX}/{attachment.file.name}") == stored
    # Nothing links to the bucket, and a link made anyway would be signed and expire.
    assert "X-Amz-Signature=" in default_storage.url(attachment.file.name)

    public = client.get(reverse("portal:report_detail", args=[case.reference]))
    photo_url = reverse("portal:report_photo", args=[case.reference, attachment.id])
    assert photo_url in public.content.decode()
    assert bucket.name not in public.content.decode()
    served = client.get(photo_url)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert b"".join(served.streaming_content) == stored


def test_a_photo_gone_from_the_bucket_is_asked_for_again(client, city, bucket):
    Citizen(client).report_pothole(city)
    post_photo(client, jpeg_bytes())
    [waiting] = bucket.keys()
    bucket.client.delete_object(Bucket=bucket.name, Key=waiting)  # purged by another process

    response = Citizen(client).send()
    assert response.status_code == 302 and response["Location"] == step_url("photo")
    page = client.get(step_url("photo")).content.decode()
    assert "Your photo has expired" in page
    assert "photo" not in client.session[SESSION_KEY]
    assert not Case.objects.exists()


def test_a_served_photo_missing_from_the_bucket_is_not_found(client, city, bucket):
    Citizen(client).report_pothole(city)
    post_photo(client, jpeg_bytes())
    Citizen(client).send()
    case = Case.objects.get()
    attachment = Attachment.objects.get(case=case)
    bucket.client.delete_object(Bucket=bucket.name, Key=f"{PREFIX}/{attachment.file.name}")
    url = reverse("portal:report_photo", args=[case.reference, attachment.id])
    assert client.get(url).status_code == 404


def test_photos_of_reports_never_sent_are_purged_from_the_bucket(client, city, bucket):
    Citizen(client).report_pothole(city)
    post_photo(client, jpeg_bytes())
    [waiting] = bucket.keys("portal-drafts/")
    sent = default_storage.save("case-media/2026/12/sent.jpg", ContentFile(jpeg_bytes()))

    out = io.StringIO()
    call_command("portal_purge_drafts", stdout=out)
    assert bucket.keys("portal-drafts/") == [waiting], "a recent photo is kept"
    assert "Deleted 0 photo" in out.getvalue()

    with clock.frozen_at(dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)):
        call_command("portal_purge_drafts", stdout=out)
    assert bucket.keys("portal-drafts/") == []
    assert "Deleted 1 photo" in out.getvalue()
    assert bucket.keys() == [f"{PREFIX}/{sent}"], "only waiting photos are purged"


def test_a_name_taken_in_the_bucket_is_never_overwritten(bucket):
    first = default_storage.save("portal-drafts/same.jpg", ContentFile(b"first"))
    second = default_storage.save("portal-drafts/same.jpg", ContentFile(b"second"))
    assert first != second
    assert bucket.read(f"{PREFIX}/{first}") == b"first"
    assert bucket.read(f"{PREFIX}/{second}") == b"second"


# Configuration

GOOD = {
    "CIVICLOOP_S3_BUCKET": "riverton-photos",
    "CIVICLOOP_S3_ENDPOINT_URL": "https://minio.riverton.example:9000",
    "CIVICLOOP_S3_REGION": "eu-west-2",
    "CIVICLOOP_S3_ACCESS_KEY": "AKIDEXAMPLE",
    "CIVICLOOP_S3_SECRET_KEY": "wJalrXUtnFEMI/K7MDENG",
}


def test_no_bucket_keeps_uploads_on_the_local_disk():
    assert s3_storage({}) is None
    assert s3_storage({"CIVICLOOP_S3_BUCKET": "  "}) is None


def test_a_bucket_with_its_keys_makes_a_private_s3_storage():
    storage = s3_storage({**GOOD, "CIVICLOOP_S3_PREFIX": "/civicloop/media/"})
    assert storage == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "riverton-photos",
            "endpoint_url": "https://minio.riverton.example:9000",
            "region_name": "eu-west-2",
            "access_key": "AKIDEXAMPLE",
            "secret_key": "wJalrXUtnFEMI/K7MDENG",
            "location": "civicloop/media",
            "addressing_style": None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
    amazon = s3_storage({**GOOD, "CIVICLOOP_S3_ENDPOINT_URL": "", "CIVICLOOP_S3_REGION": ""})
    assert amazon["OPTIONS"]["endpoint_url"] is None and amazon["OPTIONS"]["region_name"] is None
    path_style = s3_storage({**GOOD, "CIVICLOOP_S3_ADDRESSING_STYLE": "path"})
    assert path_style["OPTIONS"]["addressing_style"] == "path"


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"CIVICLOOP_S3_ACCESS_KEY": "", "CIVICLOOP_S3_SECRET_KEY": ""},
            "CIVICLOOP_S3_BUCKET is set but CIVICLOOP_S3_ACCESS_KEY and "
            "CIVICLOOP_S3_SECRET_KEY are not",
        ),
        ({"CIVICLOOP_S3_SECRET_KEY": " "}, "but CIVICLOOP_S3_SECRET_KEY is not"),
        ({"CIVICLOOP_S3_ENDPOINT_URL": "minio.riverton.example:9000"}, "start with https://"),
        ({"CIVICLOOP_S3_ENDPOINT_URL": "ftp://minio.riverton.example"}, "start with https://"),
        ({"CIVICLOOP_S3_ENDPOINT_URL": "https://"}, "names no host"),
        ({"CIVICLOOP_S3_ENDPOINT_URL": "http://minio:90a0"}, "cannot be read as a URL"),
        ({"CIVICLOOP_S3_ENDPOINT_URL": "http://[::1"}, "cannot be read as a URL"),
        ({"CIVICLOOP_S3_ENDPOINT_URL": "https://key:secret@minio.example"}, "put the keys in"),
        ({"CIVICLOOP_S3_ENDPOINT_URL": "https://minio.example/?x=1"}, "query or a fragment"),
        ({"CIVICLOOP_S3_BUCKET": "s3://riverton-photos"}, "is not a bucket name"),
        ({"CIVICLOOP_S3_BUCKET": "Riverton Photos"}, "is not a bucket name"),
        ({"CIVICLOOP_S3_ADDRESSING_STYLE": "sideways"}, "use path, virtual or auto"),
        (
            {"CIVICLOOP_S3_BUCKET": ""},
            "CIVICLOOP_S3_ENDPOINT_URL, CIVICLOOP_S3_REGION, CIVICLOOP_S3_ACCESS_KEY, "
            "CIVICLOOP_S3_SECRET_KEY are set but CIVICLOOP_S3_BUCKET is not",
        ),
    ],
)
def test_a_configuration_that_cannot_work_is_refused_with_what_to_fix(changes, message):
    with pytest.raises(ImproperlyConfigured) as refused:
        s3_storage({**GOOD, **changes})
    assert message in str(refused.value)
    assert "wJalrXUtnFEMI" not in str(refused.value), "a secret is never repeated"
    assert "key:secret" not in str(refused.value), "a secret is never repeated"


def start_django(environ: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    """Start Django in a new interpreter with these CIVICLOOP_S3_* variables; it prints the
    default storage it would use."""
    env = {k: v for k, v in os.environ.items() if k not in S3_VARIABLES}
    env.update(
        environ, DJANGO_SETTINGS_MODULE="civicloop.settings", CIVICLOOP_VAR_DIR=str(tmp_path)
    )
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.STORAGES['default']))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_app_refuses_to_start_with_a_bucket_but_no_keys(tmp_path):
    started = start_django({"CIVICLOOP_S3_BUCKET": "riverton-photos"}, tmp_path)
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr
    assert "CIVICLOOP_S3_ACCESS_KEY and CIVICLOOP_S3_SECRET_KEY are not" in started.stderr

    started = start_django(GOOD, tmp_path)
    assert started.returncode == 0, started.stderr
    storage = json.loads(started.stdout)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "riverton-photos"
