"""A small city for tests: three departments serving one person, plus outsiders.

Alice is served by housing (source record + case) and employment (case); health
holds a sensitive case for her. Childcare serves her household member Ben only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from civicloop.core.access import Viewer
from civicloop.people.models import Person
from tests import factories as f


@dataclass
class World:
    housing: object
    employment: object
    health: object
    childcare: object
    alice: Person
    ben: Person
    carol: Person  # household member nobody else serves... served by health only
    housing_case: object
    employment_case: object
    health_case: object
    housing_worker: object
    housing_supervisor: object
    employment_worker: object
    childcare_worker: object
    health_worker: object
    analyst: object
    admin: object

    def viewer(self, staff) -> Viewer:
        return Viewer(
            user_id=staff.user_id,
            role=staff.role,
            department_ids=frozenset(staff.departments.values_list("id", flat=True)),
            staff_id=staff.id,
        )


def build_world() -> World:
    housing = f.DepartmentFactory(code="housing", name="Housing")
    employment = f.DepartmentFactory(code="employment", name="Employment")
    health = f.DepartmentFactory(code="health", name="Health")
    childcare = f.DepartmentFactory(code="childcare", name="Childcare")
    repairs = f.ServiceFactory(
        code="HSG-REPAIR", name="Housing repair", department=housing, sla_days=20
    )
    jobs = f.ServiceFactory(code="EMP-JOBS", name="Job search support", department=employment)
    clinic = f.ServiceFactory(
        code="HLT-MENTAL",
        name="Mental health support",
        department=health,
        sensitive=True,
        public=False,
    )
    f.ServiceFactory(code="CC-PLACE", name="Childcare place", department=childcare)

    alice = f.PersonFactory(
        given_name="Alice",
        family_name="Okafor",
        date_of_birth=dt.date(1985, 3, 14),
        email="alice.okafor@example.org",
        phone="07700 900123",
        phone_key="7700900123",
        email_key="alice.okafor@example.org",
    )
    ben = f.PersonFactory(given_name="Ben", family_name="Okafor", date_of_birth=dt.date(2015, 6, 1))
    carol = f.PersonFactory(
        given_name="Carol", family_name="Okafor", date_of_birth=dt.date(1983, 1, 2)
    )
    household = f.HouseholdFactory()
    for p in (alice, ben, carol):
        f.HouseholdMembershipFactory(household=household, person=p)
    f.serve(alice, housing, local_id="H-1", email="alice.okafor@example.org")
    f.serve(ben, childcare, local_id="C-1")
    f.serve(ben, housing, local_id="H-2")
    f.serve(carol, health, local_id="N-1")
    f.IdentifierFactory(person=alice, scheme="housing_tenancy", value="T-0001", department=housing)

    housing_case = f.CaseFactory(service=repairs, person=alice, description="Damp in the bedroom")
    employment_case = f.CaseFactory(
        service=jobs, person=alice, description="Looking for evening work"
    )
    health_case = f.CaseFactory(
        service=clinic, person=alice, description="Confidential clinical note"
    )
    f.InteractionFactory(
        person=alice, department=housing, case=housing_case, summary="Called about damp"
    )
    f.InteractionFactory(
        person=alice, department=employment, case=employment_case, summary="CV workshop booked"
    )
    f.InteractionFactory(
        person=alice, department=health, case=health_case, summary="Clinic appointment"
    )
    need = f.NeedFactory(code="housing", name="Housing")
    f.PersonNeedFactory(person=alice, need=need, department=housing, note="Overcrowded flat")
    f.PersonNeedFactory(
        person=alice,
        need=f.NeedFactory(code="health", name="Health"),
        department=health,
        note="Sensitive health need",
    )

    def staff(role, *depts, name):
        return f.StaffFactory(
            role=role,
            departments=list(depts),
            display_name=name,
            user=f.UserFactory(username=name.lower().replace(" ", ".")),
        )

    return World(
        housing=housing,
        employment=employment,
        health=health,
        childcare=childcare,
        alice=alice,
        ben=ben,
        carol=carol,
        housing_case=housing_case,
        employment_case=employment_case,
        health_case=health_case,
        housing_worker=staff("caseworker", housing, name="Hana Housing"),
        housing_supervisor=staff("supervisor", housing, name="Sam Supervisor"),
        employment_worker=staff("caseworker", employment, name="Eli Employment"),
        childcare_worker=staff("caseworker", childcare, name="Cleo Childcare"),
        health_worker=staff("caseworker", health, name="Hugo Health"),
        analyst=staff("analyst", name="Ana Analyst"),
        admin=staff("admin", name="Adam Admin"),
    )
