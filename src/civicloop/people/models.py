"""People: the golden record, departments' own records of them, households and needs.

A Person is the golden record. A SourceRecord is one department's own record;
a Link joins it to a Person with how the link was made. Nothing is deleted: a
superseded link is kept, inactive, as history; a merged person is kept, pointing
at the person it was merged into, and its merge (PersonMerge) can be undone.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicloop.core import clock


class Person(models.Model):
    given_name = models.CharField(max_length=100)
    middle_names = models.CharField(max_length=200, blank=True)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.ForeignKey(
        "places.Address", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    preferred_language = models.CharField(max_length=10, default="en")
    accessibility_needs = models.CharField(max_length=500, blank=True)
    # Search keys, kept by people.services.person_* from the fields above.
    search_name = models.CharField(max_length=220, db_index=True)  # "given family", folded
    family_key = models.CharField(max_length=100, db_index=True)  # folded family name
    family_phonetic = models.CharField(max_length=20, db_index=True)
    given_phonetic = models.CharField(max_length=20, db_index=True)
    phone_key = models.CharField(max_length=20, blank=True, db_index=True)  # last 10 digits
    email_key = models.CharField(max_length=254, blank=True, db_index=True)  # lower-case
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    version = models.PositiveIntegerField(default=1)
    # Set when this record was found to be a duplicate: its rows moved to that person
    # (people.merge), and it is hidden from search and the 360° view until unmerged.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_people"
    )

    class Meta:
        indexes = [
            models.Index(fields=["family_key", "date_of_birth"], name="person_family_dob"),
            models.Index(fields=["family_phonetic", "given_phonetic"], name="person_phonetic"),
            models.Index(fields=["date_of_birth"], name="person_dob"),
            # Person search reads each rank in (family_key, search_name, id) order and
            # stops at a limit (people/selectors.py): one index per rank's leading key.
            models.Index(
                fields=["family_key", "search_name", "id"],
                include=["given_phonetic"],
                name="person_search_family",
            ),
            models.Index(
                fields=["family_phonetic", "family_key", "search_name", "id"],
                include=["given_phonetic"],
                name="person_search_famphon",
            ),
            models.Index(
                fields=["given_phonetic", "family_key", "search_name", "id"],
                name="person_search_givphon",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}"


class FamilyName(models.Model):
    """Every folded family name a person has had: near spellings are looked up among these
    few distinct names, not among every person. Kept by database triggers on people_person
    (migration 0006), so no write path can miss one; a name nobody bears any longer stays
    and simply finds no one."""

    key = models.CharField(max_length=100, primary_key=True)


class PersonDepartment(models.Model):
    """A department serves a person: it holds a source record or a case for them.

    Kept in step by the services that link records and open cases, so the access
    policy is one indexed join rather than a scan of every case.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="served_by")
    department = models.ForeignKey(
        "catalogue.Department", on_delete=models.PROTECT, related_name="+"
    )
    since = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["department", "person"], name="person_department_unique"
            )
        ]
        indexes = [models.Index(fields=["person", "department"], name="persondept_person")]


class SourceRecord(models.Model):
    """A department's own record of a person, as the department holds it."""

    department = models.ForeignKey(
        "catalogue.Department", on_delete=models.PROTECT, related_name="source_records"
    )
    local_id = models.CharField(max_length=100)
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address_text = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["department", "local_id"], name="sourcerecord_local_id_unique"
            )
        ]


class Link(models.Model):
    """Joins a SourceRecord to a Person. At most one active link per record."""

    class Method(models.TextChoices):
        KNOWN_TRUTH = "known_truth", _("Known truth (demo data)")
        DETERMINISTIC = "deterministic", _("Deterministic rule")
        PROBABILISTIC = "probabilistic", _("Probabilistic match")
        MANUAL = "manual", _("Confirmed by staff")
        CREATED = "created", _("Created with the person")

    source_record = models.ForeignKey(SourceRecord, on_delete=models.PROTECT, related_name="links")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="links")
    method = models.CharField(max_length=20, choices=Method.choices)
    match_probability = models.FloatField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        "staff.StaffMember", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source_record"],
                condition=models.Q(active=True),
                name="link_one_active_per_record",
            )
        ]
        indexes = [models.Index(fields=["person", "active"], name="link_person_active")]


class Identifier(models.Model):
    """An identifier of a person in some scheme (national insurance, NHS number, …)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="identifiers")
    scheme = models.CharField(max_length=40)
    value = models.CharField(max_length=100)
    department = models.ForeignKey(
        "catalogue.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scheme", "value"], name="identifier_unique")
        ]


class Household(models.Model):
    address = models.ForeignKey(
        "places.Address", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)


class HouseholdMembership(models.Model):
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="memberships")
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="household_memberships"
    )
    since = models.DateField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(until__isnull=True),
                name="one_current_household",
            )
        ]
        indexes = [models.Index(fields=["household", "until"], name="household_current")]


class Relationship(models.Model):
    class Kind(models.TextChoices):
        GUARDIAN = "guardian", _("Guardian of")
        PARTNER = "partner", _("Partner of")
        DEPENDENT = "dependent", _("Dependent of")
        CARER = "carer", _("Carer of")
        PARENT = "parent", _("Parent of")
        SIBLING = "sibling", _("Sibling of")

    from_person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="relationships_from"
    )
    to_person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="relationships_to")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    since = models.DateField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)


class PersonNeed(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        MET = "met", _("Met")
        UNMET = "unmet", _("Unmet")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="needs")
    need = models.ForeignKey("catalogue.Need", on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        "catalogue.Department", on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        "staff.StaffMember", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=clock.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    status_changed_at = models.DateTimeField(default=clock.now)
    note = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["person", "recorded_at"], name="personneed_person_time")]


class PersonMerge(models.Model):
    """One merge of a duplicate person into the one kept, with everything it changed.

    Every row it re-pointed or altered is a PersonMergeChange (before and after), so the
    merge can be undone exactly (people.merge.person_unmerge). Never deleted.
    """

    class Method(models.TextChoices):
        STAFF = "staff", _("Merged by staff")
        REVIEW = "review", _("Confirmed in clerical review")
        BATCH = "batch", _("Batch linking")

    kept_person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merges_kept")
    merged_person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="merges_merged"
    )
    method = models.CharField(max_length=10, choices=Method.choices)
    reason = models.TextField(blank=True)
    merged_by = models.ForeignKey(
        "staff.StaffMember", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    merged_at = models.DateTimeField(default=clock.now)
    # {"app.model.field": {"kept": [pk, ...], "merged": [pk, ...]}}: the rows that pointed at
    # either person just before the merge, so that rows attached afterwards can be told apart.
    rows_before = models.JSONField(default=dict, blank=True)
    unmerged_at = models.DateTimeField(null=True, blank=True)
    unmerged_by = models.ForeignKey(
        "staff.StaffMember", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unmerge_reason = models.TextField(blank=True)
    # At unmerge: {"app.model.field:pk": person id} for rows attached after the merge.
    assignments = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["kept_person", "merged_at"], name="personmerge_kept"),
            models.Index(fields=["merged_person", "merged_at"], name="personmerge_merged"),
        ]


class PersonMergeChange(models.Model):
    """One field of one row as a merge found it (`before`) and left it (`after`), in JSON."""

    merge = models.ForeignKey(PersonMerge, on_delete=models.PROTECT, related_name="changes")
    model = models.CharField(max_length=100)  # "app_label.model_name"
    object_id = models.CharField(max_length=64)
    field = models.CharField(max_length=64)  # attname: "person_id", "until", "given_name"
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["merge", "model"], name="mergechange_merge")]


class PersonFieldSource(models.Model):
    """Where a golden field's value came from, appended each time a rule or a merge sets it.

    The newest row of a (person, field) is the field's current provenance. A field with a
    source record was chosen from the departments' records by the survivorship rule and may
    be revised by it; one without was entered by staff or taken from a merged golden record.
    """

    class Method(models.TextChoices):
        SURVIVORSHIP = "survivorship", _("Chosen from the departments' records")
        MERGE = "merge", _("Set when two records of the person were merged")
        UNMERGE = "unmerge", _("Restored when a merge was undone")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="field_sources")
    field = models.CharField(max_length=40)
    source_record = models.ForeignKey(
        SourceRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    set_at = models.DateTimeField(default=clock.now)
    method = models.CharField(max_length=20, choices=Method.choices)
    merge = models.ForeignKey(
        PersonMerge, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["person", "field", "set_at"], name="fieldsource_person_field")
        ]
