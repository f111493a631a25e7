"""The audit hash chain: sealing committed events in order, and catching every kind of tampering."""

from __future__ import annotations

import datetime as dt

import pytest

from civicloop.core import clock
from civicloop.core.access import Viewer
from civicloop.trust import chain
from civicloop.trust.audit import audit_record
from civicloop.trust.chain import (
    GENESIS_HASH,
    ChainHeadMissing,
    canonical_content,
    event_hash,
    seal_all,
    seal_pending,
    verify_chain,
)
from civicloop.trust.models import AuditEvent, ChainHead

from .conftest import shift_seqs_from, swap_seqs

pytestmark = pytest.mark.django_db


def _content(event: AuditEvent) -> str:
    return canonical_content({name: getattr(event, name) for name in chain.CONTENT_FIELDS})


def _rehash_from(seq: int) -> None:
    """What an attacker with write access and the (public) algorithm can do: rewrite the tail."""
    prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else GENESIS_HASH
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        digest = event_hash(seq=event.seq, prev_hash=prev, content=_content(event))
        AuditEvent.objects.filter(pk=event.pk).update(prev_hash=prev, hash=digest)
        prev = digest
    last = AuditEvent.objects.order_by("-seq").first()
    ChainHead.objects.filter(pk=1).update(seq=last.seq, hash=last.hash)


# --- a committed sequence of reads and writes verifies ---------------------------------


def test_reads_and_writes_sealed_in_id_order_verify(record_activity):
    events = record_activity(12)

    assert seal_pending() == 12

    sealed = list(AuditEvent.objects.order_by("seq"))
    assert [e.id for e in sealed] == [e.id for e in events]
    assert [e.seq for e in sealed] == list(range(1, 13))
    assert sealed[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(sealed, sealed[1:], strict=False))
    head = ChainHead.objects.get()
    assert (head.seq, head.hash) == (12, sealed[-1].hash)
    result = verify_chain()
    assert result.ok, result
    assert (result.checked, result.unsealed, result.head_seq) == (12, 0, 12)


def test_empty_chain_verifies():
    result = verify_chain()
    assert result.ok and result.checked == 0 and result.unsealed == 0


def test_sealing_twice_adds_nothing(sealed_chain):
    head_before = ChainHead.objects.values_list("seq", "hash").get()
    hashes_before = list(AuditEvent.objects.order_by("seq").values_list("hash", flat=True))

    assert seal_pending() == 0
    assert seal_all() == 0

    assert ChainHead.objects.values_list("seq", "hash").get() == head_before
    assert list(AuditEvent.objects.order_by("seq").values_list("hash", flat=True)) == hashes_before


def test_sealing_in_small_batches_makes_the_same_chain(record_activity):
    record_activity(7)

    assert [seal_pending(batch_size=3) for _ in range(4)] == [3, 3, 1, 0]
    assert verify_chain().ok
    assert ChainHead.objects.get().seq == 7


def test_events_recorded_after_a_seal_get_later_seqs(record_activity):
    record_activity(3)
    seal_all()
    late = record_activity(2, start=3)

    waiting = verify_chain()
    assert waiting.ok and waiting.checked == 3 and waiting.unsealed == 2
    assert seal_all() == 2
    assert [AuditEvent.objects.get(pk=e.pk).seq for e in late] == [4, 5]
    assert verify_chain().ok


def test_verify_seals_nothing(record_activity):
    record_activity(4)

    result = verify_chain()

    assert result.ok and result.checked == 0 and result.unsealed == 4
    assert not AuditEvent.objects.filter(seq__isnull=False).exists()


def test_sealing_is_not_itself_audited(record_activity):
    record_activity(5)
    seal_all()
    seal_all()
    verify_chain()

    assert AuditEvent.objects.count() == 5


def test_content_is_serialised_stably_so_sqlite_and_postgresql_hash_alike():
    """A pinned vector: the same event must hash to the same value on every database."""
    viewer = Viewer(user_id=7, role="caseworker", purpose="casework")
    with clock.frozen_at(dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)):
        audit_record(
            viewer=viewer,
            action="person.read",
            object_type="person",
            object_ids=[42, "P-42"],
            fields=["name", "date_of_birth"],
            counts={"results": 2, "max_id": 9},
            request_id="r-1",
        )
    seal_all()

    event = AuditEvent.objects.get()
    assert _content(event) == (
        '{"action":"person.read","actor_role":"caseworker","actor_user_id":7,'
        '"at":"2026-01-02T03:04:05.000006Z","counts":{"max_id":9,"results":2},'
        '"fields":["date_of_birth","name"],"object_ids":[42,"P-42"],"object_type":"person",'
        '"outcome":"ok","purpose":"casework","request_id":"r-1"}'
    )
    assert event.hash == "b7f772788fab2f19b74a9bae548127e9cf65bd11b00984e344063dfae423d117"


def test_object_ids_keep_ints_and_strings_apart(caseworker):
    audit_record(viewer=caseworker, action="person.read", object_ids=[5, "5"])
    seal_all()

    event = AuditEvent.objects.get()
    assert event.object_ids == [5, "5"]
    AuditEvent.objects.filter(pk=event.pk).update(object_ids=["5", "5"])
    assert verify_chain().reason == chain.EDITED


# --- verify detects an edited, deleted, inserted or reordered event ------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("object_ids", [999]),
        ("action", "person.update"),
        ("actor_user_id", 12),
        ("actor_role", "supervisor"),
        ("fields", ["name"]),
        ("purpose", "analytics"),
        ("outcome", "denied"),
        ("counts", {"results": 0}),
        ("object_type", "case"),
        ("request_id", "forged"),
        ("hash", "f" * 64),
    ],
)
def test_an_edited_field_breaks_the_chain_at_that_event(sealed_chain, field, value):
    AuditEvent.objects.filter(seq=4).update(**{field: value})

    result = verify_chain()

    assert not result.ok
    assert (result.first_broken_seq, result.reason) == (4, chain.EDITED)
    assert result.event_id == sealed_chain[3].id
    assert result.checked == 3


def test_an_edited_time_is_caught_to_the_microsecond(sealed_chain):
    event = sealed_chain[6]
    AuditEvent.objects.filter(pk=event.pk).update(at=event.at + dt.timedelta(microseconds=1))

    result = verify_chain()

    assert (result.ok, result.first_broken_seq, result.reason) == (False, 7, chain.EDITED)


def test_an_edited_previous_hash_is_caught(sealed_chain):
    AuditEvent.objects.filter(seq=5).update(prev_hash="a" * 64)

    result = verify_chain()

    assert (result.ok, result.first_broken_seq, result.reason) == (False, 5, chain.REORDERED)


def test_content_swapped_between_two_events_is_caught(sealed_chain):
    a, b = sealed_chain[2], sealed_chain[7]
    fields = ["action", "object_type", "object_ids", "fields", "counts", "at"]
    AuditEvent.objects.filter(pk=a.pk).update(**{f: getattr(b, f) for f in fields})
    AuditEvent.objects.filter(pk=b.pk).update(**{f: getattr(a, f) for f in fields})

    result = verify_chain()

    assert (result.ok, result.first_broken_seq, result.reason) == (False, 3, chain.EDITED)


def test_a_deleted_event_leaves_a_gap(sealed_chain):
    AuditEvent.objects.filter(seq=6).delete()

    result = verify_chain()

    assert (result.ok, result.first_broken_seq, result.reason) == (False, 6, chain.MISSING)
    assert result.checked == 5


def test_a_deleted_first_event_is_caught(sealed_chain):
    AuditEvent.objects.filter(seq=1).delete()

    result = verify_chain()

    assert (result.ok, result.first_broken_seq, result.reason) == (False, 1, chain.MISSING)


def test_a_deleted_last_event_no_longer_matches_the_head(sealed_chain):
    AuditEvent.objects.filter(seq=10).delete()

    result = verify_chain()

    assert (result.ok, result.first_broken_seq, result.reason) == (False, 10, chain.TAIL_MISSING)
    assert result.checked == 9


def test_the_last_event_deleted_and_the_head_moved_back_is_caught(sealed_chain):
    AuditEvent.objects.filter(seq=10).delete()
    ChainHead.objects.update(seq=9)

    result = verify_chain()

    assert (result.ok, result.first_broken_seq, result.reason) == (False, 9, chain.HEAD_MISMATCH)


def test_a_forged_event_inserted_in_the_middle_is_caught(sealed_chain):
    shift_seqs_from(5)
    forged = AuditEvent.objects.create(
        action="person.read", object_ids=[1], seq=5, prev_hash=sealed_chain[3].hash, hash="b" * 64
    )

    result = verify_chain()

    assert (result.ok, result.first_broken_seq, result.reason) == (False, 5, chain.EDITED)
    assert result.event_id == forged.id


def test_a_well_forged_event_inserted_in_the_middle_is_caught_at_the_next_link(sealed_chain):
    shift_seqs_from(5)
    forged = AuditEvent(
        action="person.read", object_ids=[1], at=clock.now(), seq=5, prev_hash=sealed_chain[3].hash
    )
    forged.hash = event_hash(seq=5, prev_hash=forged.prev_hash, content=_content(forged))
    forged.save()

    result = verify_chain()

    assert (result.ok, result.first_broken_seq, result.reason) == (False, 6, chain.REORDERED)
    assert result.event_id == sealed_chain[4].id


def test_an_event_appended_beyond_the_head_is_caught(sealed_chain):
    forged = AuditEvent(
        action="person.read",
        object_ids=[1],
        at=clock.now(),
        seq=11,
        prev_hash=sealed_chain[-1].hash,
    )
    forged.hash = event_hash(seq=11, prev_hash=forged.prev_hash, content=_content(forged))
    forged.save()

    result = verify_chain()

    assert (result.ok, result.first_broken_seq, result.reason) == (False, 11, chain.BEYOND_HEAD)


@pytest.mark.parametrize(("a", "b"), [(3, 8), (4, 5), (1, 10)])
def test_two_events_with_swapped_seqs_are_caught(sealed_chain, a, b):
    swap_seqs(a, b)

    result = verify_chain()

    assert (result.ok, result.first_broken_seq, result.reason) == (False, a, chain.REORDERED)


def test_renumbered_seqs_are_caught(sealed_chain):
    shift_seqs_from(1, by=1)
    ChainHead.objects.update(seq=11)

    result = verify_chain()

    assert (result.ok, result.first_broken_seq, result.reason) == (False, 1, chain.MISSING)


def test_an_edited_head_is_caught(sealed_chain):
    ChainHead.objects.update(hash="c" * 64)

    result = verify_chain()

    assert (result.ok, result.first_broken_seq, result.reason) == (False, 10, chain.HEAD_MISMATCH)


def test_a_deleted_head_is_caught_and_stops_the_sealer(sealed_chain, record_activity):
    ChainHead.objects.all().delete()
    record_activity(1, start=10)

    result = verify_chain()

    assert (result.ok, result.first_broken_seq, result.reason) == (False, 1, chain.HEAD_MISSING)
    with pytest.raises(ChainHeadMissing):
        seal_pending()


def test_only_the_first_break_is_reported(sealed_chain):
    AuditEvent.objects.filter(seq=8).update(action="forged")
    AuditEvent.objects.filter(seq=3).delete()

    assert verify_chain().first_broken_seq == 3


def test_a_rewritten_tail_is_caught_by_an_anchor_recorded_outside(sealed_chain):
    anchor = {7: sealed_chain[6].hash}
    AuditEvent.objects.filter(seq=4).update(action="person.update")
    _rehash_from(4)

    assert verify_chain().ok, "an unkeyed chain alone cannot see a full rewrite"
    result = verify_chain(anchors=anchor)
    assert (result.ok, result.first_broken_seq, result.reason) == (False, 7, chain.ANCHOR_MISMATCH)


def test_an_anchor_beyond_the_chain_is_reported(sealed_chain):
    result = verify_chain(anchors={12: "d" * 64})

    assert (result.ok, result.first_broken_seq, result.reason) == (False, 12, chain.ANCHOR_MISMATCH)


def test_unsealed_events_do_not_hide_tampering(sealed_chain, record_activity):
    record_activity(3, start=10)
    AuditEvent.objects.filter(seq=2).update(object_ids=[1, 2, 3])

    result = verify_chain()

    assert (result.ok, result.first_broken_seq, result.unsealed) == (False, 2, 3)


def test_verify_streams_in_chunks(record_activity, monkeypatch):
    monkeypatch.setattr(chain, "VERIFY_CHUNK", 4)
    record_activity(10)
    seal_all()
    seen = []

    assert verify_chain(on_progress=seen.append).ok
    assert seen == [4, 8, 10]
