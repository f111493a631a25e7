"""Reads of personal data. Every function applies the access policy and audits.

Views and API handlers call these, never `.objects` on personal data.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case as CaseWhen
from django.db.models import IntegerField, Q, Value, When
from django.utils.translation import gettext as _

from civicloop.cases.workflow import status_label
from civicloop.catalogue.models import Department
from civicloop.core.access import NotVisible, ValidationFailed, Viewer
from civicloop.core.pagination import Page, clamp_page
from civicloop.core.sql import fetch_ids, fetch_rows
from civicloop.people import keys, policy, view_reads
from civicloop.people.models import (
    Identifier,
    Link,
    Person,
    PersonNeed,
    Relationship,
)
from civicloop.people.search_sql import (
    SEARCH_ORDER_SQL,
    AnyOf,
    Cond,
    Rank,
    rank,
    starting,
)
from civicloop.people.timeline import TimelinePage, person_timeline
from civicloop.trust.audit import audit_record

SEARCH_FIELDS = ("name", "date_of_birth", "identifier", "phone", "email")


@dataclass(frozen=True)
class PersonSearchCriteria:
    name: str = ""
    date_of_birth: dt.date | None = None
    identifier: str = ""
    phone: str = ""
    email: str = ""

    def used_fields(self) -> list[str]:
        return [f for f in SEARCH_FIELDS if getattr(self, f)]


def _rank_terms(name: str) -> list[Rank]:
    """A name search's ranks, best first: a person's rank is the first whose condition
    they meet. Exact and phonetic keys match; each rank's condition implies the match and
    together they cover it, so a rank can be read on its own, by an index in its order,
    without the whole match's ORs (which lead PostgreSQL to sort every Smith)."""
    tokens = keys.fold(name).split()
    if not tokens:
        raise ValidationFailed({"name": _("Enter at least two letters of a name.")})
    family = tokens[-1]
    given = tokens[0] if len(tokens) > 1 else ""
    fam_phon = keys.phonetic(family)
    if not given:
        # One word may be either name.
        return [
            rank(Cond("family_key", "eq", family)),
            starting(f"{family} "),
            rank(Cond("family_phonetic", "eq", fam_phon)),
            rank(Cond("given_phonetic", "eq", fam_phon)),
        ]
    giv_phon = keys.phonetic(given)
    # The given name matches by its sound or its initial ("J Smith"). Those of the
    # sound come a rank earlier, so a rank of the initial needs no OR.
    by_family = Cond("family_key", "eq", family)
    by_sound = Cond("family_phonetic", "eq", fam_phon)
    initial = starting(given[:1])
    return [
        rank(Cond("search_name", "eq", f"{given} {family}"), AnyOf((by_family, by_sound))),
        rank(by_family, starting(f"{given} ")),
        rank(by_family, Cond("given_phonetic", "eq", giv_phon)),
        rank(by_family, initial),
        rank(by_sound, Cond("given_phonetic", "eq", giv_phon)),
        rank(by_sound, initial),
    ]


NEAR_SPELLINGS = 10  # family names tried, closest first, when nothing is spelt alike


def _near_family_names(family: str) -> list[str]:
    """Family names people have that are spelt close to `family`, closest first: trigram
    similarity on PostgreSQL; on SQLite, names sharing its first three letters, by
    difflib's ratio. Looked up among distinct names (FamilyName), not every person."""
    if settings.IS_POSTGRES:
        return [
            row[0]
            for row in fetch_rows(
                "SELECT n.key FROM people_familyname n WHERE n.key %% %s"
                " ORDER BY similarity(n.key, %s) DESC, n.key LIMIT %s",
                [family, family, NEAR_SPELLINGS],
            )
        ]
    prefix, prefix_params = Cond("key", "startswith", family[:3]).sql(alias="n")
    sql = f"SELECT n.key FROM people_familyname n WHERE {prefix} ORDER BY n.key LIMIT 1000"
    found = [row[0] for row in fetch_rows(sql, prefix_params)]
    closeness = {k: difflib.SequenceMatcher(None, family, k).ratio() for k in found}
    return sorted(found, key=lambda k: (-closeness[k], k))[:NEAR_SPELLINGS]


def _near_ranks(name: str, family_key: str) -> list[Rank]:
    """The ranks of one near spelling of a name's family name: its bearers with the given
    name, then its sound, then its initial, then the rest."""
    tokens = keys.fold(name).split()
    by_family = Cond("family_key", "eq", family_key)
    if len(tokens) < 2:
        return [rank(by_family)]
    given = tokens[0]
    return [
        rank(by_family, starting(f"{given} ")),
        rank(by_family, Cond("given_phonetic", "eq", keys.phonetic(given))),
        rank(by_family, starting(given[:1])),
        rank(by_family),
    ]


def _name_ranks(name: str) -> tuple[Q, list[Q]]:
    """What a name search matches, and its ranks best first, for the ORM: the same
    conditions `search_ids` reads as SQL."""
    ranks = [r.q() for r in _rank_terms(name)]
    return reduce(or_, ranks), ranks


def rank_expression(ranks: list[Q]) -> CaseWhen:
    """The rank `_name_ranks` describes, as one SQL expression."""
    return CaseWhen(
        *(When(condition, then=Value(i)) for i, condition in enumerate(ranks)),
        default=Value(len(ranks)),
        output_field=IntegerField(),
    )


SEARCH_ORDER = ("family_key", "search_name", "id")


def person_search(
    *,
    viewer: Viewer,
    criteria: PersonSearchCriteria,
    page: int | None = 1,
    page_size: int | None = None,
) -> Page[Person]:
    """People the viewer's departments serve that match every given criterion, best first.

    The total is exact up to `SEARCH_COUNT_LIMIT` (or the end of the page asked for, if
    further); beyond it the page says "more than" (`total_capped`): counting every Smith
    in a city costs more than the search, and nobody reads past the first pages.
    """
    policy.require_casework_role(viewer)
    used = criteria.used_fields()
    if not used:
        raise ValidationFailed(
            {"name": _("Enter a name, date of birth, identifier, phone number or email address.")}
        )
    page, size = clamp_page(page, page_size, settings.CIVICLOOP["SEARCH_PAGE_SIZE"])
    if criteria.name and len(keys.fold(criteria.name)) < 2:
        raise ValidationFailed({"name": _("Enter at least two letters of a name.")})
    start = (page - 1) * size
    limit = max(settings.CIVICLOOP["SEARCH_COUNT_LIMIT"], start + size) + 1
    with transaction.atomic():
        ids = search_ids(viewer, criteria, limit, fuzzy=False)
        if not ids and criteria.name:
            # Nothing spelt alike: try near spellings before saying there is nobody.
            ids = search_ids(viewer, criteria, limit, fuzzy=True)
        capped = len(ids) >= limit
        total = limit - 1 if capped else len(ids)
        page_ids = ids[start : start + size]
        found = Person.objects.select_related("address").in_bulk(page_ids)
        items = [found[i] for i in page_ids if i in found]
        audit_record(
            viewer=viewer,
            action="person.search",
            object_type="person",
            object_ids=page_ids,
            fields=used,
            counts={"total": total, "capped": int(capped), "page": page},
        )
    return Page(items=items, page=page, page_size=size, total=total, total_capped=capped)


def search_ids(
    viewer: Viewer, criteria: PersonSearchCriteria, limit: int, *, fuzzy: bool
) -> list[int]:
    """The ids of the first `limit` people matching `criteria`, in rank order.

    Exact and phonetic name searches read one rank at a time, each in
    (family_key, search_name, id) order through an index that has it, and stop at
    `limit`, so a common surname costs a few hundred index entries, not a sort of
    every bearer. With `fuzzy`, the same for the bearers of the family names spelt closest
    (FamilyName), one name at a time.
    Plain SQL: this runs up to seven statements on every search (search_sql.py).
    """
    visible, params = policy.visible_people_sql(viewer)
    where = [visible]
    if criteria.date_of_birth:
        where.append("p.date_of_birth = %s")
        params.append(connection.ops.adapt_datefield_value(criteria.date_of_birth))
    if criteria.identifier:
        where.append("p.id IN (SELECT i.person_id FROM people_identifier i WHERE i.value = %s)")
        params.append(criteria.identifier.strip())
    if criteria.phone:
        pk = keys.phone_key(criteria.phone)
        if len(pk) < 6:
            raise ValidationFailed({"phone": _("Enter a phone number with at least six digits.")})
        where.append("p.phone_key = %s")
        params.append(pk)
    if criteria.email:
        where.append("p.email_key = %s")
        params.append(keys.email_key(criteria.email))
    base = "SELECT p.id FROM people_person p WHERE " + " AND ".join(where)
    if not criteria.name:
        return fetch_ids(f"{base} ORDER BY {SEARCH_ORDER_SQL} LIMIT %s", [*params, limit])
    if not fuzzy:
        return _read_ranks(base, params, _rank_terms(criteria.name), limit, [])
    # Nothing spelt alike: the bearers of the closest family names, one name at a time.
    ids: list[int] = []
    family = keys.fold(criteria.name).split()[-1]
    for near in _near_family_names(family):
        ids = _read_ranks(base, params, _near_ranks(criteria.name, near), limit, ids)
        if len(ids) >= limit:
            break
    return ids


def _read_ranks(base: str, params: list, ranks: list[Rank], limit: int, ids: list[int]):
    """`ids` and then the people of `ranks`, each read in (family_key, search_name, id)
    order, until there are `limit`; someone already in `ids` is not repeated."""
    seen = set(ids)
    ranks_sql = [r.sql() for r in ranks]
    for i, (condition, condition_params) in enumerate(ranks_sql):
        earlier = ranks_sql[:i]  # a person is in the first rank they meet
        sql = f"{base} AND {condition}"
        if earlier:
            sql += " AND NOT (" + " OR ".join(s for s, _p in earlier) + ")"
        found = fetch_ids(
            f"{sql} ORDER BY {SEARCH_ORDER_SQL} LIMIT %s",
            [
                *params,
                *condition_params,
                *(p for _s, ps in earlier for p in ps),
                limit - len(ids),
            ],
        )
        for person_id in found:
            if person_id not in seen:  # a name changed between two reads
                seen.add(person_id)
                ids.append(person_id)
        if len(ids) >= limit:
            break
    return ids


@dataclass(frozen=True)
class ProvenanceRow:
    department_name: str
    local_id: str
    method: str
    match_probability: float | None
    linked_at: dt.datetime
    fields: dict


@dataclass(frozen=True)
class HouseholdMember:
    person_id: int | None  # None when the viewer may not see them
    label: str
    date_of_birth: dt.date | None = None
    relationship: str = ""


@dataclass(frozen=True)
class CaseLine:
    case_id: int | None  # None for a summary line of another department's case
    reference: str
    department_name: str
    service_name: str
    status: str
    status_label: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    due_at: dt.datetime | None
    full: bool


@dataclass(frozen=True)
class Person360:
    person: Person
    provenance: list[ProvenanceRow]
    identifiers: list[Identifier]
    household: list[HouseholdMember]
    relationships: list[HouseholdMember]
    needs: list[PersonNeed]
    cases: list[CaseLine]
    departments: list[Department]  # departments with something on the timeline the viewer may see
    timeline: TimelinePage
    own_department_ids: frozenset[int] = field(default_factory=frozenset)


def person_household(*, viewer: Viewer, person_id: int) -> list[HouseholdMember]:
    """Current household members: by name if the viewer's departments serve them too."""
    return _household_lines(view_reads.household_others(person_id, sorted(viewer.department_ids)))


def person_relationships(viewer: Viewer, person_id: int) -> list[HouseholdMember]:
    """Current relationships; the other person by name only if the viewer may see them."""
    return _relationship_lines(view_reads.relationships(person_id, sorted(viewer.department_ids)))


def _household_lines(others: list[tuple]) -> list[HouseholdMember]:
    return [
        HouseholdMember(person_id=pid, label=f"{given} {family}", date_of_birth=dob)
        if served
        else HouseholdMember(person_id=None, label=_("Another household member"))
        for pid, given, family, dob, served in others
    ]


def _relationship_lines(rels: list[tuple]) -> list[HouseholdMember]:
    rows = []
    for kind, outgoing, other_id, given, family, served in rels:
        label = str(Relationship.Kind(kind).label) if kind in Relationship.Kind.values else kind
        # "Parent of: Sam" for this person's own relationships; "Sam: parent of this person" otherwise.
        relationship = label if outgoing else _("%(kind)s this person") % {"kind": label.lower()}
        if served:
            rows.append(
                HouseholdMember(
                    person_id=other_id, label=f"{given} {family}", relationship=relationship
                )
            )
        else:
            rows.append(
                HouseholdMember(
                    person_id=None, label=_("Another person"), relationship=relationship
                )
            )
    return rows


def person_360(
    *,
    viewer: Viewer,
    person_id: int,
    department_id: int | None = None,
    cursor: str | None = None,
    page_size: int | None = None,
) -> Person360:
    """Everything the viewer may see of one person, with the first (or next) timeline page."""
    policy.require_casework_role(viewer)
    size = clamp_page(1, page_size, settings.CIVICLOOP["TIMELINE_PAGE_SIZE"])[1]
    own = viewer.department_ids
    mine = sorted(own)
    if not mine:
        raise NotVisible("person")
    methods = dict(Link._meta.get_field("method").flatchoices)
    with transaction.atomic():
        person = view_reads.visible_person(viewer, person_id)
        provenance = [
            ProvenanceRow(
                department_name=dept,
                local_id=local_id,
                method=str(methods.get(method, method)),
                match_probability=probability,
                linked_at=linked_at,
                fields={
                    "given_name": given,
                    "family_name": family,
                    "date_of_birth": dob,
                    "email": email,
                    "phone": phone,
                    "address": address,
                },
            )
            for dept, local_id, method, probability, linked_at, given, family, dob, email, phone,
            address in view_reads.provenance(person_id, mine)
        ]  # fmt: skip
        identifiers = view_reads.identifiers(person_id, mine)
        needs = view_reads.needs(person_id, mine)
        case_rows = view_reads.cases(person_id, mine)
        cases = [
            CaseLine(
                case_id=case_id if dept_id in own else None,
                reference=reference if dept_id in own else "",
                department_name=dept_name,
                service_name=service_name,
                status=status,
                status_label=status_label(status),
                opened_at=opened_at,
                closed_at=closed_at or resolved_at,
                due_at=due_at if dept_id in own else None,
                full=dept_id in own,
            )
            for case_id, reference, status, opened_at, closed_at, resolved_at, due_at, dept_id,
            dept_name, service_name in case_rows
        ]  # fmt: skip
        dept_ids = {row[7] for row in case_rows} | set(own)
        departments = view_reads.departments(dept_ids)
        if department_id is not None and department_id not in dept_ids:
            raise ValidationFailed({"department": _("Choose one of the departments listed.")})
        timeline = person_timeline(
            viewer=viewer,
            person_id=person_id,
            department_id=department_id,
            cursor=cursor,
            page_size=size,
        )
        household = _household_lines(view_reads.household_others(person_id, mine))
        relationships = _relationship_lines(view_reads.relationships(person_id, mine))
        audit_record(
            viewer=viewer,
            action="person.read",
            object_type="person",
            object_ids=[person_id],
            fields=[
                "golden_record",
                "provenance",
                "identifiers",
                "needs",
                "cases",
                "timeline",
                "household",
            ],
            counts={"timeline_entries": len(timeline.entries), "cases": len(cases)},
        )
    return Person360(
        person=person,
        provenance=provenance,
        identifiers=identifiers,
        household=household,
        relationships=relationships,
        needs=needs,
        cases=cases,
        departments=departments,
        timeline=timeline,
        own_department_ids=own,
    )


def person_get(*, viewer: Viewer, person_id: int) -> Person:
    """The golden record alone (for edit forms), audited as a read."""
    policy.require_person_visible(viewer, person_id)
    with transaction.atomic():
        try:
            person = Person.objects.select_related("address").get(pk=person_id)
        except Person.DoesNotExist:
            raise NotVisible("person") from None
        audit_record(
            viewer=viewer,
            action="person.read",
            object_type="person",
            object_ids=[person_id],
            fields=["golden_record"],
        )
    return person
