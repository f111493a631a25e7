"""Reads of personal data. Every function applies the access policy and audits.

Views and API handlers call these, never `.objects` on personal data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case as CaseWhen
from django.db.models import IntegerField, Q, Value, When
from django.utils.translation import gettext as _

from civicloop.cases.models import Case
from civicloop.cases.workflow import status_label
from civicloop.catalogue.models import Department
from civicloop.core.access import NotVisible, ValidationFailed, Viewer
from civicloop.core.pagination import Page, clamp_page
from civicloop.core.sql import fetch_ids
from civicloop.people import keys, policy
from civicloop.people.models import (
    HouseholdMembership,
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


def _near_spelling(name: str) -> tuple[str, list]:
    """Near spellings of `name`: trigram word similarity on PostgreSQL, a shared
    three-letter prefix of the family name on SQLite."""
    tokens = keys.fold(name).split()
    if settings.IS_POSTGRES:
        return "p.search_name %%> %s", [" ".join(tokens)]
    return Cond("family_key", "startswith", tokens[-1][:3]).sql()


def _name_ranks(name: str, *, fuzzy: bool = False) -> tuple[Q, list[Q]]:
    """What a name search matches, and its ranks best first, for the ORM: the same
    conditions `search_ids` reads as SQL. With `fuzzy`, near spellings match, ranked
    the same way; anyone else the near match takes comes last."""
    ranks = [r.q() for r in _rank_terms(name)]
    if fuzzy and settings.IS_POSTGRES:
        match = Q(search_name__trigram_word_similar=" ".join(keys.fold(name).split()))
    elif fuzzy:
        match = Q(family_key__startswith=keys.fold(name).split()[-1][:3])
    else:
        match = reduce(or_, ranks)
    return match, ranks


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
    every bearer. Near spellings are rarer and bounded by trigram similarity: one query.
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
    ranks = [r.sql() for r in _rank_terms(criteria.name)]
    if fuzzy:
        match, match_params = _near_spelling(criteria.name)
        order = " ".join(f"WHEN {sql} THEN {i}" for i, (sql, _p) in enumerate(ranks))
        return fetch_ids(
            f"{base} AND {match} ORDER BY CASE {order} ELSE {len(ranks)} END, "
            f"{SEARCH_ORDER_SQL} LIMIT %s",
            [*params, *match_params, *(p for _s, ps in ranks for p in ps), limit],
        )
    ids: list[int] = []
    seen: set[int] = set()
    for i, (condition, condition_params) in enumerate(ranks):
        earlier = ranks[:i]  # a person is in the first rank they meet
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


def _visible_ids(viewer: Viewer, person_ids: list[int]) -> set[int]:
    from civicloop.people.models import PersonDepartment

    if not person_ids:
        return set()
    return set(
        PersonDepartment.objects.filter(
            person_id__in=person_ids, department_id__in=viewer.department_ids
        ).values_list("person_id", flat=True)
    )


def person_household(*, viewer: Viewer, person_id: int) -> list[HouseholdMember]:
    """Current household members: by name if the viewer's departments serve them too."""
    others = _household_others(person_id)
    return _household_lines(others, _visible_ids(viewer, [o.id for o in others]))


def person_relationships(viewer: Viewer, person_id: int) -> list[HouseholdMember]:
    """Current relationships; the other person by name only if the viewer may see them."""
    rels = _relationships_of(person_id)
    return _relationship_lines(rels, _visible_ids(viewer, [r.other.id for r in rels]))


@dataclass(frozen=True)
class _Someone:
    id: int
    label: str
    date_of_birth: dt.date | None


@dataclass(frozen=True)
class _Relation:
    kind: str
    outgoing: bool  # this person's own relationship ("parent of" the other)
    other: _Someone


def _household_others(person_id: int) -> list[_Someone]:
    # Plain rows: this runs on every 360° view, and model instances cost more than the query.
    current = HouseholdMembership.objects.filter(person_id=person_id, until__isnull=True)
    rows = (
        HouseholdMembership.objects.filter(
            household_id__in=current.values("household_id")[:1], until__isnull=True
        )
        .exclude(person_id=person_id)
        .order_by("person__date_of_birth", "person_id")
        .values_list(
            "person_id", "person__given_name", "person__family_name", "person__date_of_birth"
        )
    )
    return [_Someone(pid, f"{given} {family}", dob) for pid, given, family, dob in rows]


def _household_lines(others: list[_Someone], visible: set[int]) -> list[HouseholdMember]:
    return [
        HouseholdMember(person_id=o.id, label=o.label, date_of_birth=o.date_of_birth)
        if o.id in visible
        else HouseholdMember(person_id=None, label=_("Another household member"))
        for o in others
    ]


def _relationships_of(person_id: int) -> list[_Relation]:
    rows = (
        Relationship.objects.filter(
            Q(from_person_id=person_id) | Q(to_person_id=person_id), until__isnull=True
        )
        .order_by("id")
        .values_list(
            "kind",
            "from_person_id",
            "from_person__given_name",
            "from_person__family_name",
            "to_person_id",
            "to_person__given_name",
            "to_person__family_name",
        )
    )
    relations = []
    for kind, from_id, from_given, from_family, to_id, to_given, to_family in rows:
        outgoing = from_id == person_id
        if outgoing:
            other = _Someone(to_id, f"{to_given} {to_family}", None)
        else:
            other = _Someone(from_id, f"{from_given} {from_family}", None)
        relations.append(_Relation(kind=kind, outgoing=outgoing, other=other))
    return relations


def _relationship_lines(rels: list[_Relation], visible: set[int]) -> list[HouseholdMember]:
    rows = []
    for r in rels:
        kind = (
            str(Relationship.Kind(r.kind).label) if r.kind in Relationship.Kind.values else r.kind
        )
        # "Parent of: Sam" for this person's own relationships; "Sam: parent of this person" otherwise.
        relationship = kind if r.outgoing else _("%(kind)s this person") % {"kind": kind.lower()}
        if r.other.id in visible:
            rows.append(
                HouseholdMember(
                    person_id=r.other.id, label=r.other.label, relationship=relationship
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
    policy.require_person_visible(viewer, person_id)
    size = clamp_page(1, page_size, settings.CIVICLOOP["TIMELINE_PAGE_SIZE"])[1]
    own = viewer.department_ids
    with transaction.atomic():
        person = Person.objects.select_related("address", "address__area").get(pk=person_id)
        links = (
            Link.objects.filter(
                person_id=person_id, active=True, source_record__department_id__in=own
            )
            .select_related("source_record", "source_record__department")
            .only(
                "method",
                "match_probability",
                "created_at",
                "source_record__local_id",
                "source_record__given_name",
                "source_record__family_name",
                "source_record__date_of_birth",
                "source_record__email",
                "source_record__phone",
                "source_record__address_text",
                "source_record__department__name",
            )  # fmt: skip
            .order_by("source_record__department__name", "source_record__local_id")
        )
        provenance = [
            ProvenanceRow(
                department_name=link.source_record.department.name,
                local_id=link.source_record.local_id,
                method=link.get_method_display(),
                match_probability=link.match_probability,
                linked_at=link.created_at,
                fields={
                    "given_name": link.source_record.given_name,
                    "family_name": link.source_record.family_name,
                    "date_of_birth": link.source_record.date_of_birth,
                    "email": link.source_record.email,
                    "phone": link.source_record.phone,
                    "address": link.source_record.address_text,
                },
            )
            for link in links
        ]
        identifiers = list(
            Identifier.objects.filter(person_id=person_id)
            .filter(Q(department_id__in=own) | Q(department__isnull=True))
            .order_by("scheme")
        )
        needs = list(
            PersonNeed.objects.filter(person_id=person_id, department_id__in=own)
            .select_related("need", "department")
            .order_by("-recorded_at")
        )
        case_rows = (
            Case.objects.filter(person_id=person_id)
            .filter(Q(department_id__in=own) | Q(service__sensitive=False))
            .select_related("service", "department")
            .only(
                "id",
                "reference",
                "status",
                "opened_at",
                "closed_at",
                "resolved_at",
                "due_at",
                "department_id",
                "department__name",
                "service_id",
                "service__name",
            )  # fmt: skip
            .order_by("-opened_at")
        )
        cases = [
            CaseLine(
                case_id=c.id if c.department_id in own else None,
                reference=c.reference if c.department_id in own else "",
                department_name=c.department.name,
                service_name=c.service.name,
                status=c.status,
                status_label=status_label(c.status),
                opened_at=c.opened_at,
                closed_at=c.closed_at or c.resolved_at,
                due_at=c.due_at if c.department_id in own else None,
                full=c.department_id in own,
            )
            for c in case_rows
        ]
        dept_ids = {c.department_id for c in case_rows} | set(own)
        departments = list(Department.objects.filter(id__in=dept_ids).order_by("name"))
        if department_id is not None and department_id not in dept_ids:
            raise ValidationFailed({"department": _("Choose one of the departments listed.")})
        timeline = person_timeline(
            viewer=viewer,
            person_id=person_id,
            department_id=department_id,
            cursor=cursor,
            page_size=size,
        )
        # One visibility query for household members and relations alike.
        members, rels = _household_others(person_id), _relationships_of(person_id)
        visible = _visible_ids(viewer, [m.id for m in members] + [r.other.id for r in rels])
        household = _household_lines(members, visible)
        relationships = _relationship_lines(rels, visible)
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
