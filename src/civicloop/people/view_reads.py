"""The 360° view's reads, as plain SQL: it is read on every request, and building its
dozen queries through the ORM cost more than running them (decision 0003).

Each function takes the viewer's own department ids and applies the access policy in its
statement (policy.visible_people_sql for the person, own departments for the rest);
`selectors.person_360` shapes the rows, audits and is what callers use.
"""

from __future__ import annotations

from functools import cache

from civicloop.catalogue.models import Department, Need
from civicloop.core.access import NotVisible, Viewer
from civicloop.core.sql import Columns, aware, fetch_rows, marks, split
from civicloop.people import policy
from civicloop.people.models import Identifier, Person, PersonNeed
from civicloop.places.models import Address, Area


@cache
def _columns(name: str) -> Columns:
    return {
        "person": lambda: Columns(Person, "p"),
        "address": lambda: Columns(Address, "a"),
        # Not the polygon: the view names the ward, and a polygon is kilobytes of JSON.
        "area": lambda: Columns(Area, "ar", ["code", "name", "kind"]),
        "identifier": lambda: Columns(Identifier, "i"),
        "person_need": lambda: Columns(PersonNeed, "pn"),
        "need": lambda: Columns(Need, "nd", ["code", "name"]),
        "department": lambda: Columns(Department, "d"),
    }[name]()


def visible_person(viewer: Viewer, person_id: int) -> Person:
    """The person with their address and ward, if the viewer may see them (else NotVisible)."""
    person_cols, address_cols, area_cols = (_columns(n) for n in ("person", "address", "area"))
    visible, params = policy.visible_people_sql(viewer)
    rows = fetch_rows(
        f"SELECT {person_cols.sql}, {address_cols.sql}, {area_cols.sql} FROM people_person p"
        " LEFT JOIN places_address a ON a.id = p.address_id"
        " LEFT JOIN places_area ar ON ar.id = a.area_id"
        f" WHERE p.id = %s AND {visible}",
        [person_id, *params],
    )
    if not rows:
        raise NotVisible("person")
    person, address, area = split(rows[0], person_cols, address_cols, area_cols)
    if address is not None:
        if area is not None:
            address.area = area
        person.address = address
    return person


def provenance(person_id: int, own: list[int]) -> list[tuple]:
    """(department, local id, method, probability, linked at, given, family, date of birth,
    email, phone, address) of the source records of the viewer's departments linked to them."""
    rows = fetch_rows(
        "SELECT d.name, r.local_id, l.method, l.match_probability, l.created_at, r.given_name,"
        " r.family_name, r.date_of_birth, r.email, r.phone, r.address_text"
        " FROM people_link l JOIN people_sourcerecord r ON r.id = l.source_record_id"
        " JOIN catalogue_department d ON d.id = r.department_id"
        f" WHERE l.person_id = %s AND l.active = %s AND r.department_id IN ({marks(own)})"
        " ORDER BY d.name, r.local_id",
        [person_id, True, *own],
    )
    return [(*row[:4], aware(row[4]), *row[5:]) for row in rows]


def identifiers(person_id: int, own: list[int]) -> list[Identifier]:
    """Identifiers recorded by the viewer's departments, and those of no department."""
    cols = _columns("identifier")
    rows = fetch_rows(
        f"SELECT {cols.sql} FROM people_identifier i WHERE i.person_id = %s"
        f" AND (i.department_id IN ({marks(own)}) OR i.department_id IS NULL)"
        " ORDER BY i.scheme, i.id",
        [person_id, *own],
    )
    return [cols.build(row) for row in rows]


def needs(person_id: int, own: list[int]) -> list[PersonNeed]:
    """Needs the viewer's departments recorded, newest first, with the need and department."""
    parts = (_columns("person_need"), _columns("need"), _columns("department"))
    rows = fetch_rows(
        f"SELECT {', '.join(p.sql for p in parts)} FROM people_personneed pn"
        " JOIN catalogue_need nd ON nd.id = pn.need_id"
        " JOIN catalogue_department d ON d.id = pn.department_id"
        f" WHERE pn.person_id = %s AND pn.department_id IN ({marks(own)})"
        " ORDER BY pn.recorded_at DESC, pn.id DESC",
        [person_id, *own],
    )
    found = []
    for row in rows:
        person_need, need, department = split(row, *parts)
        person_need.need, person_need.department = need, department
        found.append(person_need)
    return found


def cases(person_id: int, own: list[int]) -> list[tuple]:
    """(id, reference, status, opened, closed, resolved, due, department id, department,
    service) of their cases: the viewer's departments' and others' not sensitive, newest first."""
    rows = fetch_rows(
        "SELECT c.id, c.reference, c.status, c.opened_at, c.closed_at, c.resolved_at, c.due_at,"
        " c.department_id, d.name, s.name FROM cases_case c"
        " JOIN catalogue_service s ON s.id = c.service_id"
        " JOIN catalogue_department d ON d.id = c.department_id"
        f" WHERE c.person_id = %s AND (c.department_id IN ({marks(own)}) OR s.sensitive = %s)"
        " ORDER BY c.opened_at DESC, c.id DESC",
        [person_id, *own, False],
    )
    return [(*r[:3], *(aware(v) for v in r[3:7]), *r[7:]) for r in rows]


def departments(ids: set[int]) -> list[Department]:
    cols = _columns("department")
    ordered = sorted(ids)
    rows = fetch_rows(
        f"SELECT {cols.sql} FROM catalogue_department d WHERE d.id IN ({marks(ordered)})"
        " ORDER BY d.name, d.id",
        ordered,
    )
    return [cols.build(row) for row in rows]


def household_others(person_id: int, own: list[int]) -> list[tuple]:
    """(id, given, family, date of birth, served) of the others in their current household,
    oldest first; `served`: one of the viewer's departments serves them too."""
    rows = fetch_rows(
        f"SELECT o.id, o.given_name, o.family_name, o.date_of_birth, {policy.served_sql('o.id', own)}"
        " FROM people_householdmembership m JOIN people_person o ON o.id = m.person_id"
        " WHERE m.household_id IN (SELECT h.household_id FROM people_householdmembership h"
        " WHERE h.person_id = %s AND h.until IS NULL ORDER BY h.id LIMIT 1)"
        " AND m.until IS NULL AND m.person_id <> %s"
        " ORDER BY o.date_of_birth, o.id",
        [*own, person_id, person_id],
    )
    return [(*row[:4], bool(row[4])) for row in rows]


def relationships(person_id: int, own: list[int]) -> list[tuple]:
    """(kind, outgoing, other's id, given, family, served) of their current relationships;
    `outgoing`: this person's own ("parent of" the other)."""
    rows = fetch_rows(
        f"SELECT r.kind, r.from_person_id, o.id, o.given_name, o.family_name,"
        f" {policy.served_sql('o.id', own)} FROM people_relationship r JOIN people_person o"
        " ON o.id = CASE WHEN r.from_person_id = %s THEN r.to_person_id ELSE r.from_person_id END"
        " WHERE (r.from_person_id = %s OR r.to_person_id = %s) AND r.until IS NULL ORDER BY r.id",
        [*own, person_id, person_id, person_id],
    )
    return [(kind, from_id == person_id, *rest[:3], bool(rest[3])) for kind, from_id, *rest in rows]
