"""Real-time matching agrees with batch linking: each source record of the demo city, taken
as a new arrival against everyone else's records, is matched (or not) as `civicloop link`
linked it."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.core.management import call_command

from civicloop.linkage.matching import current_model
from civicloop.linkage.realtime import MemoryIndex, match_record
from civicloop.people.models import Link

pytestmark = pytest.mark.django_db


def agreement() -> tuple[int, int, list[int]]:
    """(agreeing, records, disagreeing record ids) over every linked source record."""
    model = current_model()
    rows = Link.objects.filter(active=True).values(
        "person_id",
        "source_record_id",
        "source_record__given_name",
        "source_record__family_name",
        "source_record__date_of_birth",
        "source_record__email",
        "source_record__phone",
        "source_record__postcode",
        "source_record__address_text",
    )
    records: dict[int, dict] = {}
    person_of: dict[int, int] = {}
    by_person: dict[int, list[int]] = defaultdict(list)
    for r in rows:
        rid = r["source_record_id"]
        person_of[rid] = r["person_id"]
        by_person[r["person_id"]].append(rid)
        records[rid] = {
            k.removeprefix("source_record__").replace("address_text", "address"): v
            for k, v in r.items()
            if k.startswith("source_record__")
        }
    index = MemoryIndex(model.blocking_rules)
    for person_id, ids in by_person.items():
        index.put(person_id, [records[i] for i in ids])
    agree, wrong = 0, []
    for rid in sorted(records):
        person_id = person_of[rid]
        others = [i for i in by_person[person_id] if i != rid]
        # The record arrives new: its person is known only by their other records.
        index.put(person_id, [records[i] for i in others])
        found = match_record(model, records[rid], index, top=1)
        index.put(person_id, [records[i] for i in by_person[person_id]])
        realtime = found[0].person_id if found and found[0].is_match else None
        batch = person_id if others else None
        if realtime == batch:
            agree += 1
        else:
            wrong.append(rid)
    return agree, len(records), wrong


def test_realtime_matching_agrees_with_batch_linking_on_99_percent_of_records():
    call_command("demo", people=400, seed=23, verbosity=0)
    call_command("link", verbosity=0)
    agree, total, wrong = agreement()
    share = agree / total
    print(f"real-time vs batch agreement: {agree}/{total} = {share:.4f}")
    assert total > 300
    assert share >= 0.99, wrong[:20]
