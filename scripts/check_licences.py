"""Fail when a runtime dependency is GPL- or AGPL-licensed (LGPL is fine).

CivicLoop is Apache-2.0; agencies and suppliers must be able to ship it without copyleft
obligations on the whole product. Only the runtime lock is checked: test tools may be anything.

    python scripts/check_licences.py [requirements/lock.txt]

Reads each locked package's installed metadata (License-Expression, License, classifiers),
so run it with the project's venv. Exit 0 when clean, 1 when a package is forbidden or
cannot be checked.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Packages reviewed by hand whose metadata trips the check but whose licence we may use:
# canonical name -> why. Empty today; add an entry only with the reason and a link.
REVIEWED: dict[str, str] = {}

_LESSER = re.compile(r"\bLGPL|\bLesser\b|\bLibrary\s+(or\s+Lesser\s+)?General\s+Public", re.I)
_COPYLEFT = re.compile(
    r"\bA?GPL(v?\d|-|\b)|\bAffero\b|\bGNU\s+General\s+Public\s+Licen[cs]e|\bGeneral\s+Public\s+Licen[cs]e",
    re.I,
)


def is_copyleft(licence: str) -> bool:
    """True when one licence name or classifier is GPL or AGPL (but not LGPL)."""
    if _LESSER.search(licence):
        return False
    return bool(_COPYLEFT.search(licence))


def expression_is_copyleft(expression: str) -> bool:
    """An SPDX expression is copyleft unless one OR-alternative is free of GPL/AGPL terms."""
    alternatives = re.split(r"\s+OR\s+", expression.strip().strip("()"), flags=re.I)
    return all(
        any(
            is_copyleft(term)
            for term in re.split(r"\s+(?:AND|WITH)\s+", alt.strip("() "), flags=re.I)
        )
        for alt in alternatives
    )


@dataclass
class Verdict:
    name: str
    version: str
    licences: list[str] = field(default_factory=list)
    forbidden: bool = False
    problem: str = ""


def locked_packages(lock: Path) -> list[tuple[str, str]]:
    pins = []
    for raw in lock.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, _, version = line.partition("==")
        pins.append((name.split("[")[0].strip(), version.split(";")[0].strip()))
    return pins


def judge(name: str, version: str) -> Verdict:
    verdict = Verdict(name, version)
    try:
        meta = metadata.distribution(name).metadata
    except metadata.PackageNotFoundError:
        verdict.problem = "not installed, so its licence cannot be read"
        return verdict
    expression = meta.get("License-Expression")
    text = (meta.get("License") or "").strip()
    classifiers = [
        c.split("::", 1)[1].strip()
        for c in meta.get_all("Classifier") or []
        if c.startswith("License ::")
    ]
    # A long License field is the licence's full text; its first line names it.
    short_text = text.splitlines()[0][:120] if text else ""
    verdict.licences = [x for x in [expression, short_text, *classifiers] if x]
    if not verdict.licences:
        verdict.problem = "declares no licence"
        return verdict
    if expression:
        verdict.forbidden = expression_is_copyleft(expression)
    else:
        verdict.forbidden = any(is_copyleft(x) for x in [short_text, *classifiers] if x)
    if verdict.forbidden and name.lower().replace("_", "-") in REVIEWED:
        verdict.forbidden = False
    return verdict


def main(argv: list[str]) -> int:
    lock = Path(argv[0]) if argv else ROOT / "requirements" / "lock.txt"
    verdicts = [judge(name, version) for name, version in locked_packages(lock)]
    width = max((len(v.name) for v in verdicts), default=10)
    print(f"Licences of the {len(verdicts)} runtime packages in {lock.name}:")
    for v in sorted(verdicts, key=lambda v: v.name.lower()):
        mark = "FORBIDDEN" if v.forbidden else ("UNKNOWN" if v.problem else "ok")
        shown = "; ".join(dict.fromkeys(v.licences)) or v.problem
        print(f"  {mark:9}  {v.name:<{width}}  {v.version:<12}  {shown}")
    forbidden = [v for v in verdicts if v.forbidden]
    unknown = [v for v in verdicts if v.problem]
    if forbidden:
        print(
            f"\nFAIL: {len(forbidden)} GPL/AGPL runtime dependencies: "
            + ", ".join(v.name for v in forbidden)
        )
    if unknown:
        print(
            f"\nFAIL: {len(unknown)} packages could not be checked: "
            + ", ".join(f"{v.name} ({v.problem})" for v in unknown)
        )
    if forbidden or unknown:
        return 1
    print(f"\nOK: no GPL/AGPL licence among {len(verdicts)} runtime dependencies.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
