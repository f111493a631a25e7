"""`civicloop match_index rebuild`: file every active person afresh for real-time matching."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from civicloop.linkage.matching import matchindex_rebuild, matchindex_update


class Command(BaseCommand):
    help = (
        "Keep the index real-time matching looks people up in. 'rebuild' files every active "
        "person afresh (run it after `civicloop link`); 'update ID ...' re-files those people."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild", "update"])
        parser.add_argument("person_ids", nargs="*", type=int, help="people to re-file (update)")

    def handle(self, *args, action: str, person_ids: list[int], **options):
        if action == "update":
            written = matchindex_update(person_ids)
            self.stdout.write(f"{written} keys for {len(person_ids)} people.")
            return
        written = matchindex_rebuild()
        self.stdout.write(f"{written} keys written.")
