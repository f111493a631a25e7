"""Every shipped message catalogue is complete and compiled: no untranslated or fuzzy entry,
the same placeholders and markup as the English, a committed .mo holding exactly what its .po
says, and one translation for a message that two catalogues share.

The project catalogue (LOCALE_PATHS) overrides the apps' catalogues, so a message it shares
with the portal or notifications must read the same there, or it silently changes the portal.
The checks parse the files in Python: CI has no gettext tools, and nothing compiles on install.
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import civicloop

CATALOGUES = sorted(Path(civicloop.__file__).parent.rglob("locale/*/LC_MESSAGES/django.po"))

_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
_BRACE = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_KEYWORD = re.compile(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False
    line: int = 0

    @property
    def key(self) -> str:
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"

    @property
    def name(self) -> str:
        return f"line {self.line}: {self.msgid!r}"


def parse_po(text: str) -> list[Entry]:
    """The entries of a PO file, header included (msgid ""), in file order."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal entry, target
        if entry is not None and target is not None:
            entries.append(entry)
        entry, target = None, None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if entry is None:
            entry = Entry(line=number)
        if line.startswith("#~"):
            entry.obsolete = True
            line = line[2:].strip()
            if not line or line.startswith(("#", "|")):
                continue
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            if target is None:
                raise ValueError(f"line {number}: a string outside any message")
            _append(entry, target, ast.literal_eval(line))
            continue
        match = _KEYWORD.match(line)
        if match is None:
            raise ValueError(f"line {number}: cannot read {raw!r}")
        keyword, index, value = match.groups()
        if keyword.startswith("msgstr"):
            target = ("msgstr", int(index or 0))
            entry.msgstr[target[1]] = ""
        else:
            if target is not None and target[0] == "msgstr":
                finish()
                entry = Entry(line=number)
            target = (keyword, 0)
            setattr(entry, keyword, "")
        _append(entry, target, ast.literal_eval(value))
    finish()
    return entries


def _append(entry: Entry, target: tuple[str, int], text: str) -> None:
    name, index = target
    if name == "msgstr":
        entry.msgstr[index] += text
    else:
        setattr(entry, name, (getattr(entry, name) or "") + text)


def _markers(text: str) -> Counter:
    """Placeholders and markup a translation must keep, whatever order the language needs."""
    return Counter(_PERCENT.findall(text) + _BRACE.findall(text) + _TAG.findall(text))


def _nplurals(header: str) -> int:
    match = re.search(r"nplurals\s*=\s*(\d+)", header)
    return int(match.group(1)) if match else 2


def catalogue_problems(po_path: Path) -> list[str]:
    """Everything that makes a shipped catalogue incomplete or its .mo stale, one line each."""
    entries = [e for e in parse_po(po_path.read_text(encoding="utf-8")) if not e.obsolete]
    header = next((e for e in entries if e.key == ""), None)
    if header is None:
        return ["no header entry"]
    problems = []
    if "fuzzy" in header.flags:
        problems.append("the header is marked fuzzy")
    if not re.search(r"^Language: \S+", header.msgstr.get(0, ""), re.M):
        problems.append("the header names no Language")
    nplurals = _nplurals(header.msgstr.get(0, ""))
    for e in entries:
        if e is header:
            continue
        if "fuzzy" in e.flags:
            problems.append(f"fuzzy: {e.name}")
        forms = range(nplurals) if e.msgid_plural is not None else range(1)
        if sorted(e.msgstr) != list(forms) or not all(e.msgstr.values()):
            problems.append(f"untranslated: {e.name}")
            continue
        for index, translation in e.msgstr.items():
            if e.msgid_plural is None:
                allowed = [_markers(e.msgid)]
            elif index == 0:
                # The singular may spell the count out ("once") or show it ("%(n)s vez").
                allowed = [_markers(e.msgid), _markers(e.msgid_plural)]
            else:
                allowed = [_markers(e.msgid_plural)]
            if _markers(translation) not in allowed:
                problems.append(f"placeholders or markup differ in msgstr[{index}]: {e.name}")
    problems += _compiled_problems(po_path, entries)
    return problems


def _compiled_header(text: str) -> str:
    """msgfmt leaves the extraction date out of the .mo, so that re-extracting changes nothing."""
    return "".join(line for line in text.splitlines(True) if not line.startswith("POT-Creation-"))


def _compiled_problems(po_path: Path, entries: list[Entry]) -> list[str]:
    mo_path = po_path.with_suffix(".mo")
    if not mo_path.exists():
        return [f"{mo_path.name} is missing: compile the catalogue and commit it"]
    expected: dict = {}
    for e in entries:
        if "fuzzy" in e.flags or not all(e.msgstr.values()):
            continue
        if e.key == "":
            expected[""] = _compiled_header(e.msgstr[0])
        elif e.msgid_plural is None:
            expected[e.key] = e.msgstr[0]
        else:
            expected.update({(e.key, i): text for i, text in e.msgstr.items()})
    with mo_path.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    if compiled != expected:
        changed = sorted(
            repr(k) for k in expected.keys() | compiled.keys() if expected.get(k) != compiled.get(k)
        )
        return [f"{mo_path.name} differs from the .po (recompile it): {', '.join(changed[:5])}"]
    return []


def test_every_shipped_catalogue_is_found():
    apps = {p.parents[3].name for p in CATALOGUES}
    assert {"civicloop", "portal", "notify"} <= apps


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.parents[3].name))
def test_catalogue_is_complete_and_compiled(po_path):
    assert catalogue_problems(po_path) == []


def test_a_message_in_two_catalogues_is_translated_the_same_in_both():
    seen: dict[tuple, dict[str, str]] = {}
    for po_path in CATALOGUES:
        language = po_path.parents[1].name
        for e in parse_po(po_path.read_text(encoding="utf-8")):
            if e.obsolete or not e.key or not all(e.msgstr.values()):
                continue
            key = (language, e.key, e.msgid_plural)
            seen.setdefault(key, {})[po_path.parents[3].name] = repr(sorted(e.msgstr.items()))
    differing = {key[1]: owners for key, owners in seen.items() if len(set(owners.values())) > 1}
    assert differing == {}


# The checks above must be able to fail: each broken copy below is caught.

ENGLISH_AND_SPANISH = """\
msgid ""
msgstr ""
"POT-Creation-Date: 2026-12-05 02:43+0000\\n"
"Language: es\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

#, python-format
msgid "Case %(ref)s"
msgstr "Caso %(ref)s"

#, python-format
msgid "%(n)s case"
msgid_plural "%(n)s cases"
msgstr[0] "%(n)s caso"
msgstr[1] "%(n)s casos"

msgid "Open the <a href=\\"%(url)s\\">case</a>"
msgstr "Abra el <a href=\\"%(url)s\\">caso</a>"
"""


def _catalogue(tmp_path: Path, text: str, compile_from: str | None = None) -> Path:
    po_path = tmp_path / "es" / "LC_MESSAGES" / "django.po"
    po_path.parent.mkdir(parents=True, exist_ok=True)
    po_path.write_text(compile_from if compile_from is not None else text, encoding="utf-8")
    _write_mo(po_path)
    po_path.write_text(text, encoding="utf-8")
    return po_path


def _write_mo(po_path: Path) -> None:
    """A .mo of the translated, non-fuzzy entries, laid out as msgfmt writes it."""
    messages: dict[bytes, bytes] = {}
    for e in parse_po(po_path.read_text(encoding="utf-8")):
        if e.obsolete or "fuzzy" in e.flags or not all(e.msgstr.values()):
            continue
        key = e.key if e.msgid_plural is None else f"{e.key}\x00{e.msgid_plural}"
        value = "\x00".join(e.msgstr[i] for i in sorted(e.msgstr))
        value = _compiled_header(value) if e.key == "" else value
        messages[key.encode()] = value.encode()
    keys = sorted(messages)
    offsets, ids, strs = [], b"", b""
    for k in keys:
        offsets.append((len(ids), len(k), len(strs), len(messages[k])))
        ids += k + b"\x00"
        strs += messages[k] + b"\x00"
    start = 7 * 4 + 16 * len(keys)
    table = [(length, start + at) for at, length, _, _ in offsets]
    table += [(length, start + len(ids) + at) for _, _, at, length in offsets]
    out = [0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + 8 * len(keys), 0, 0]
    data = b"".join(n.to_bytes(4, "little") for n in out)
    data += b"".join(a.to_bytes(4, "little") + b.to_bytes(4, "little") for a, b in table)
    po_path.with_suffix(".mo").write_bytes(data + ids + strs)


def test_the_check_passes_a_good_catalogue(tmp_path):
    assert catalogue_problems(_catalogue(tmp_path, ENGLISH_AND_SPANISH)) == []


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        (('msgstr "Caso %(ref)s"', 'msgstr ""'), "untranslated: line 8"),
        (('msgstr[1] "%(n)s casos"', 'msgstr[1] ""'), "untranslated: line 12"),
        (('#, python-format\nmsgid "Case', '#, fuzzy, python-format\nmsgid "Case'), "fuzzy"),
        (('"Caso %(ref)s"', '"Caso %(reference)s"'), "placeholders or markup differ"),
        (('"Caso %(ref)s"', '"Caso %(ref)d"'), "placeholders or markup differ"),
        (('msgstr[1] "%(n)s casos"', 'msgstr[1] "casos"'), "placeholders or markup differ"),
        (('msgstr[0] "%(n)s caso"', 'msgstr[0] "%(m)s caso"'), "placeholders or markup differ"),
        (('"Abra el <a href', '"Abra el <a class=\\"x\\" href'), "placeholders or markup differ"),
        (("caso</a>", "caso"), "placeholders or markup differ"),
        (('"Language: es\\n"\n', ""), "the header names no Language"),
    ],
)
def test_the_check_finds_a_broken_entry(tmp_path, broken, problem):
    old, new = broken
    assert old in ENGLISH_AND_SPANISH
    po_path = _catalogue(tmp_path, ENGLISH_AND_SPANISH.replace(old, new, 1))
    assert any(p.startswith(problem) for p in catalogue_problems(po_path)), problem


def test_the_check_finds_a_stale_or_missing_mo(tmp_path):
    changed = ENGLISH_AND_SPANISH.replace('"Caso %(ref)s"', '"Expediente %(ref)s"')
    stale = _catalogue(tmp_path, changed, compile_from=ENGLISH_AND_SPANISH)
    assert catalogue_problems(stale) == [
        "django.mo differs from the .po (recompile it): 'Case %(ref)s'"
    ]
    stale.with_suffix(".mo").unlink()
    assert catalogue_problems(stale) == [
        "django.mo is missing: compile the catalogue and commit it"
    ]


def test_the_check_finds_a_stale_copy_of_a_shipped_catalogue(tmp_path):
    shipped = next(p for p in CATALOGUES if p.parents[3].name == "civicloop")
    copy = tmp_path / "django.po"
    shutil.copy(shipped, copy)
    shutil.copy(shipped.with_suffix(".mo"), copy.with_suffix(".mo"))
    assert catalogue_problems(copy) == []
    text = copy.read_text(encoding="utf-8")
    copy.write_text(text.replace('msgstr "Cola de casos"', 'msgstr "Lista de casos"'), "utf-8")
    assert catalogue_problems(copy) == [
        "django.mo differs from the .po (recompile it): 'Case queue'"
    ]


def test_the_parser_reads_wrapped_strings_contexts_and_obsolete_entries():
    entries = parse_po(
        'msgctxt "month"\nmsgid ""\n"May"\nmsgstr "mayo"\n\n'
        '#~ #, fuzzy\n#~| msgid "Older"\n#~ msgid "Old"\n#~ msgstr "Viejo"\n'
    )
    assert [(e.key, e.msgstr[0], e.obsolete) for e in entries] == [
        ("month\x04May", "mayo", False),
        ("Old", "Viejo", True),
    ]
