"""The `civicloop` command: Django's management commands behind one entry point."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicloop.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["civicloop", *argv])
    args[0] = "civicloop"
    if len(args) > 1 and "-" in args[1] and not args[1].startswith("-"):
        # `civicloop import-records` and `civicloop import_records` are the same command.
        args[1] = args[1].replace("-", "_")
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
