"""Background jobs of the trust app."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from civicloop.trust.chain import seal_all


@task()
def seal_audit_chain(batch_size: int = 1000) -> int:
    """Seal every committed unsealed audit event into the chain; return how many."""
    return seal_all(batch_size=batch_size)


def seal_audit_chain_after_commit() -> None:
    """Enqueue a sealing run once the current transaction commits (at once outside one).

    Sealing is idempotent and serialised on the chain head, so extra runs cost a
    query each; a long-running `civicloop audit seal --follow` makes this optional.
    """
    transaction.on_commit(seal_audit_chain.enqueue)
