"""Photos citizens upload: checked by their content (JPEG, PNG or WebP, whatever the file
is called), limited in size, and re-encoded from their pixels alone, so no EXIF, XMP or
other metadata (GPS position, camera serial number) survives.

A photo waiting for its report to be sent is kept through Django's storage API under
DRAFT_PREFIX; the report takes it over when it is submitted.
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from civicloop.portal.conf import portal_setting

DRAFT_PREFIX = "portal-drafts/"

# Pillow's format name -> (content type, file extension).
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
# A picture this many pixels or more is refused before it is decoded (decompression bombs).
MAX_PIXELS = 50_000_000


class PhotoRejected(Exception):
    """The upload is not a photo the portal accepts; the message says why, for the citizen."""


@dataclass(frozen=True)
class CleanPhoto:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int


def sniff_format(head: bytes) -> str | None:
    """The image format the first bytes of a file announce, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def _size_message(limit: int) -> str:
    return _("The photo must be smaller than %(size)s MB.") % {"size": f"{limit / (1024 * 1024):g}"}


def too_big_message() -> str:
    return _size_message(portal_setting("PORTAL_MAX_PHOTO_BYTES"))


def clean_photo(upload: UploadedFile) -> CleanPhoto:
    """Check an upload and re-encode it without metadata, or raise PhotoRejected."""
    limit = portal_setting("PORTAL_MAX_PHOTO_BYTES")
    if upload.size is not None and upload.size > limit:
        raise PhotoRejected(_size_message(limit))
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise PhotoRejected(_size_message(limit))
    if not data:
        raise PhotoRejected(_("The selected file is empty."))
    wrong_type = _("The photo must be a JPEG, PNG or WebP image.")
    sniffed = sniff_format(data[:16])
    if sniffed is None:
        raise PhotoRejected(wrong_type)
    unreadable = _("The photo could not be read. Try another photo, or save it again as a JPEG.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[sniffed]) as probe:
                if probe.width * probe.height >= MAX_PIXELS:
                    raise PhotoRejected(_("The photo has too many pixels. Send a smaller one."))
                probe.verify()
            # verify() leaves the image unusable: open it again to decode the pixels.
            with Image.open(io.BytesIO(data), formats=[sniffed]) as image:
                image.load()
                pixels = _pixels_only(ImageOps.exif_transpose(image), sniffed)
    except PhotoRejected:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected(unreadable) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise PhotoRejected(unreadable) from None
    side = portal_setting("PORTAL_MAX_PHOTO_SIDE")
    if max(pixels.size) > side:
        pixels.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if sniffed == "JPEG":
        pixels.save(out, "JPEG", quality=85, optimize=True)
    elif sniffed == "PNG":
        pixels.save(out, "PNG", optimize=True)
    else:
        pixels.save(out, "WEBP", quality=85)
    content_type, extension = FORMATS[sniffed]
    return CleanPhoto(
        content=out.getvalue(),
        content_type=content_type,
        extension=extension,
        width=pixels.width,
        height=pixels.height,
    )


def _pixels_only(image: Image.Image, fmt: str) -> Image.Image:
    """A new image holding only the pixels (no info, EXIF, XMP, ICC or text chunks), in a
    mode the output format can store."""
    if fmt == "JPEG":
        mode = "L" if image.mode in ("1", "L", "LA", "I", "I;16", "F") else "RGB"
    elif image.mode in ("1", "L", "LA", "RGB", "RGBA"):
        mode = image.mode
    else:
        mode = "RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB"
    converted = image if image.mode == mode else image.convert(mode)
    return Image.frombytes(mode, converted.size, converted.tobytes())


# Photos waiting for their report


@dataclass(frozen=True)
class DraftPhoto:
    """A cleaned photo kept through the storage API until its report is sent."""

    name: str
    content_type: str
    size: int

    def as_session(self) -> dict:
        return {"name": self.name, "content_type": self.content_type, "size": self.size}

    @classmethod
    def from_session(cls, data: dict | None) -> DraftPhoto | None:
        if not data or not str(data.get("name", "")).startswith(DRAFT_PREFIX):
            return None
        return cls(name=data["name"], content_type=data["content_type"], size=int(data["size"]))


def draft_photo_save(photo: CleanPhoto) -> DraftPhoto:
    """Keep a cleaned photo until its report is sent, under a name nobody can guess."""
    name = f"{DRAFT_PREFIX}{secrets.token_urlsafe(18)}.{photo.extension}"
    stored = default_storage.save(name, ContentFile(photo.content))
    return DraftPhoto(name=stored, content_type=photo.content_type, size=len(photo.content))


def draft_photo_read(draft: DraftPhoto) -> bytes | None:
    """The bytes of a waiting photo, or None if it has gone (purged, or never stored)."""
    try:
        with default_storage.open(draft.name, "rb") as handle:
            return handle.read()
    except (FileNotFoundError, OSError):
        return None


def draft_photo_delete(draft: DraftPhoto | None) -> None:
    if draft is not None and draft.name.startswith(DRAFT_PREFIX):
        default_storage.delete(draft.name)


class PhotoSizeLimit(FileUploadHandler):
    """Stops reading an upload once it passes the limit, so an oversized file is never
    written to disk; the view then tells the citizen it was too big."""

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.request.portal_upload_too_big = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


def upload_too_big(request) -> bool:
    return bool(getattr(request, "portal_upload_too_big", False))


def draft_photos_purge(*, before) -> int:
    """Delete waiting photos last changed before `before` (reports never sent); how many."""
    try:
        _dirs, names = default_storage.listdir(DRAFT_PREFIX.rstrip("/"))
    except (FileNotFoundError, OSError):
        return 0
    removed = 0
    for name in names:
        path = f"{DRAFT_PREFIX}{name}"
        try:
            modified = default_storage.get_modified_time(path)
        except FileNotFoundError:
            continue  # sent or purged by another process meanwhile
        except NotImplementedError as e:
            raise RuntimeError(
                "This storage cannot tell when a file was last changed, so waiting photos "
                "cannot be purged by age; configure a storage that can (local or S3)."
            ) from e
        if modified < before:
            default_storage.delete(path)
            removed += 1
    return removed
