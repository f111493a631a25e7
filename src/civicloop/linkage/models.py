"""Linking departments' records into people: runs, the clerical review queue, staff decisions.

A LinkageRun is one batch of `civicloop link`. Pairs and clusters the model is unsure of
become ReviewItems; what staff decide about a pair becomes a ConfirmedPair, which every
later run obeys (a confirmed match is never split, a confirmed non-match never joined)
and trains on. All three are history: rows are added and their status moves on, never
deleted.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from civicloop.core import clock


class LinkageRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")

    started_at = models.DateTimeField(default=clock.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_by = models.ForeignKey(
        "staff.StaffMember", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    merge_threshold = models.FloatField()
    review_threshold = models.FloatField()
    # The trained model (engine LinkageModel.to_json()), reused while its input is unchanged.
    model_json = models.TextField(blank=True)
    # SHA-256 of the records and staff decisions the model was trained on.
    input_fingerprint = models.CharField(max_length=64, blank=True)
    record_count = models.PositiveIntegerField(default=0)
    pair_count = models.PositiveIntegerField(default=0)
    cluster_count = models.PositiveIntegerField(default=0)
    links_created = models.PositiveIntegerField(default=0)
    links_ended = models.PositiveIntegerField(default=0)
    people_created = models.PositiveIntegerField(default=0)
    people_merged = models.PositiveIntegerField(default=0)
    review_items_created = models.PositiveIntegerField(default=0)
    # Anything else worth reporting, counts only ({"records_in_review": 12, ...}).
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]


class ReviewItem(models.Model):
    """A pair of records the model could not decide on, for staff to look at.

    The two records are stored lowest id first. For a cluster sent to review (too big or
    too loosely knit to merge), each uncertain pair inside it is an item of kind
    "cluster", with every record of the cluster listed in `cluster_record_ids`.
    """

    class Kind(models.TextChoices):
        PAIR = "pair", _("Pair in the uncertain band")
        CLUSTER = "cluster", _("Pair in a group sent to review")

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for review")
        CONFIRMED = "confirmed", _("Confirmed: the same person")
        REJECTED = "rejected", _("Rejected: different people")
        SKIPPED = "skipped", _("Skipped")

    UNDECIDED = (Status.OPEN, Status.SKIPPED)

    run = models.ForeignKey(
        LinkageRun, null=True, blank=True, on_delete=models.PROTECT, related_name="review_items"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PAIR)
    source_record_l = models.ForeignKey(
        "people.SourceRecord", on_delete=models.PROTECT, related_name="+"
    )
    source_record_r = models.ForeignKey(
        "people.SourceRecord", on_delete=models.PROTECT, related_name="+"
    )
    cluster_record_ids = models.JSONField(default=list, blank=True)
    # The people the two records were linked to when the item was raised.
    person_ids = models.JSONField(default=list, blank=True)
    match_probability = models.FloatField()
    match_weight = models.FloatField(null=True, blank=True)
    # {"match_weight", "match_probability", "prior_weight",
    #  "contributions": [{"comparison", "label", "weight"}, ...]} (weights in log2).
    explanation = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=clock.now)
    decided_by = models.ForeignKey(
        "staff.StaffMember", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(source_record_l__lt=F("source_record_r")),
                name="reviewitem_pair_ordered",
            ),
            models.UniqueConstraint(
                fields=["source_record_l", "source_record_r"],
                condition=Q(status__in=["open", "skipped"]),
                name="reviewitem_one_undecided_per_pair",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="reviewitem_queue")]


class ConfirmedPair(models.Model):
    """Staff's decision on whether two records are the same person. The newest decision on
    a pair stands; earlier ones are kept as history. Used as labels in training."""

    source_record_l = models.ForeignKey(
        "people.SourceRecord", on_delete=models.PROTECT, related_name="+"
    )
    source_record_r = models.ForeignKey(
        "people.SourceRecord", on_delete=models.PROTECT, related_name="+"
    )
    is_match = models.BooleanField()
    by = models.ForeignKey(
        "staff.StaffMember", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=clock.now)
    review_item = models.ForeignKey(
        ReviewItem, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions"
    )
    # The merge a confirmed match caused. Once that merge is undone, the pair counts as
    # a non-match: staff have separated the two people again.
    merge = models.ForeignKey(
        "people.PersonMerge", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(source_record_l__lt=F("source_record_r")),
                name="confirmedpair_pair_ordered",
            )
        ]
        indexes = [
            models.Index(
                fields=["source_record_l", "source_record_r", "at"], name="confirmedpair_pair"
            )
        ]


class MatchKey(models.Model):
    """One blocking key of an active golden person, for real-time matching at intake.

    Derived data, kept by linkage.matching from the person's golden fields and linked
    records: rebuilt at will, so it cascades with the person instead of holding them.
    """

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=60)  # the blocking rule (and side, ":l" / ":r")
    value = models.CharField(max_length=400)

    class Meta:
        indexes = [
            models.Index(fields=["kind", "value"], name="matchkey_lookup"),
            models.Index(fields=["person"], name="matchkey_person"),
        ]


def _keep_match_index(event) -> None:
    # Subscribed here because the models load with the app; the work lives in matching.
    from civicloop.linkage.matching import matchindex_on_event

    matchindex_on_event(event)


def _refile_imported(event) -> None:
    from civicloop.linkage.matching import matchindex_update

    matchindex_update(event.data["person_ids"])


def _subscribe_match_index() -> None:
    from civicloop.core.events import subscribe

    for name in ("person.created", "person.updated", "person.merged", "person.unmerged"):
        subscribe(name, _keep_match_index)
    subscribe("people.records_imported", _refile_imported)
    subscribe("linkage.run_finished", _rebuild_match_index)


def _rebuild_match_index(event) -> None:
    # A batch run relinks many people at once and may bring new blocking rules: refile all.
    from civicloop.linkage.matching import matchindex_rebuild

    matchindex_rebuild()


_subscribe_match_index()
