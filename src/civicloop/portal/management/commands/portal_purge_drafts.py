"""`civicloop portal_purge_drafts`: delete photos of reports never sent."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand

from civicloop.core import clock
from civicloop.portal.conf import portal_setting
from civicloop.portal.uploads import draft_photos_purge


class Command(BaseCommand):
    help = (
        "Delete photos chosen for portal reports that were never sent, once they are older "
        "than PORTAL_DRAFT_TTL_HOURS (24 by default). Run it daily, e.g. from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-hours",
            type=float,
            default=None,
            help="age in hours (default: the PORTAL_DRAFT_TTL_HOURS setting)",
        )

    def handle(self, *args, **options):
        hours = options["older_than_hours"]
        if hours is None:
            hours = float(portal_setting("PORTAL_DRAFT_TTL_HOURS"))
        removed = draft_photos_purge(before=clock.now() - dt.timedelta(hours=hours))
        self.stdout.write(f"Deleted {removed} photo(s) of reports never sent.")
