"""factory_boy factories for every model, shared by the whole suite."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model

from civicloop.cases.models import Case, CaseEvent, Interaction
from civicloop.catalogue.models import Department, Need, PartnerOrganisation, Service
from civicloop.core import clock
from civicloop.people import keys
from civicloop.people.models import (
    Household,
    HouseholdMembership,
    Identifier,
    Link,
    Person,
    PersonDepartment,
    PersonNeed,
    Relationship,
    SourceRecord,
)
from civicloop.places.models import Address, Area
from civicloop.staff.models import StaffMember

PASSWORD = "correct-horse-battery-staple"

SQUARE = [[[-0.2, 51.4], [0.0, 51.4], [0.0, 51.6], [-0.2, 51.6], [-0.2, 51.4]]]


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"W{n:02d}")
    name = factory.Sequence(lambda n: f"Ward {n}")
    polygon = SQUARE
    min_lat, max_lat, min_lon, max_lon = 51.4, 51.6, -0.2, 0.0


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    uprn = factory.Sequence(lambda n: f"U{n:08d}")
    line1 = factory.Sequence(lambda n: f"{n + 1} High Street")
    town = "Riverton"
    postcode = factory.Sequence(lambda n: f"RV{n % 9 + 1} {n % 10}AB")
    latitude = 51.5
    longitude = -0.1
    area = factory.SubFactory(AreaFactory)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"dept-{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("-", " ").title())


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerOrganisation

    code = factory.Sequence(lambda n: f"partner-{n}")
    name = factory.Sequence(lambda n: f"Partner {n}")


class NeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Need
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"need-{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("-", " ").title())


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    code = factory.Sequence(lambda n: f"SVC-{n}")
    name = factory.Sequence(lambda n: f"Service {n}")
    department = factory.SubFactory(DepartmentFactory)
    sla_days = 10


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMember
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    role = "caseworker"
    display_name = factory.Sequence(lambda n: f"Staff Member {n}")

    @factory.post_generation
    def departments(self, create, extracted, **kwargs):
        if create and extracted:
            self.departments.set(extracted)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    given_name = factory.Iterator(
        ["Alice", "Bashir", "Chloe", "Dmitri", "Esther", "Farah", "George"]
    )
    family_name = factory.Iterator(
        ["Okafor", "Smith", "Nguyen", "Kowalski", "Hughes", "Patel", "Byrne"]
    )
    date_of_birth = factory.Sequence(lambda n: dt.date(1960, 1, 1) + dt.timedelta(days=97 * n))
    email = factory.LazyAttributeSequence(lambda o, n: f"{o.given_name.lower()}.{n}@example.org")
    phone = factory.Sequence(lambda n: f"07700 9{n:05d}")
    search_name = factory.LazyAttribute(
        lambda o: keys.person_keys(given_name=o.given_name, family_name=o.family_name)[
            "search_name"
        ]
    )
    family_key = factory.LazyAttribute(lambda o: keys.fold(o.family_name))
    family_phonetic = factory.LazyAttribute(lambda o: keys.phonetic(o.family_name))
    given_phonetic = factory.LazyAttribute(lambda o: keys.phonetic(o.given_name))
    phone_key = factory.LazyAttribute(lambda o: keys.phone_key(o.phone))
    email_key = factory.LazyAttribute(lambda o: keys.email_key(o.email))


class SourceRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SourceRecord

    department = factory.SubFactory(DepartmentFactory)
    local_id = factory.Sequence(lambda n: f"L{n:06d}")
    given_name = "Alice"
    family_name = "Okafor"


def serve(person: Person, department: Department, **record_fields) -> SourceRecord:
    """Give `department` its own record of `person`, linked, so it serves them."""
    record = SourceRecordFactory(
        department=department,
        given_name=person.given_name,
        family_name=person.family_name,
        date_of_birth=person.date_of_birth,
        **record_fields,
    )
    Link.objects.create(source_record=record, person=person, method=Link.Method.KNOWN_TRUTH)
    PersonDepartment.objects.get_or_create(person=person, department=department)
    return record


class IdentifierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identifier

    person = factory.SubFactory(PersonFactory)
    scheme = "national_insurance"
    value = factory.Sequence(lambda n: f"QQ{n:06d}C")


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household


class HouseholdMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HouseholdMembership

    household = factory.SubFactory(HouseholdFactory)
    person = factory.SubFactory(PersonFactory)


class RelationshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Relationship

    from_person = factory.SubFactory(PersonFactory)
    to_person = factory.SubFactory(PersonFactory)
    kind = "parent"


class PersonNeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PersonNeed

    person = factory.SubFactory(PersonFactory)
    need = factory.SubFactory(NeedFactory)
    department = factory.SubFactory(DepartmentFactory)


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"CL-T{n:07d}")
    service = factory.SubFactory(ServiceFactory)
    department = factory.LazyAttribute(lambda o: o.service.department)
    person = factory.SubFactory(PersonFactory)
    description = factory.Sequence(lambda n: f"Case description {n}")
    opened_at = factory.LazyFunction(clock.now)

    @factory.post_generation
    def served(self, create, extracted, **kwargs):
        if create and self.person_id:
            PersonDepartment.objects.get_or_create(
                person_id=self.person_id, department_id=self.department_id
            )


class CaseEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseEvent

    case = factory.SubFactory(CaseFactory)
    kind = "note"
    note = "A note"


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    person = factory.SubFactory(PersonFactory)
    department = factory.SubFactory(DepartmentFactory)
    channel = "phone"
    summary = factory.Sequence(lambda n: f"Contact {n}")
