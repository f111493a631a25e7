"""Background jobs of the linkage app."""

from __future__ import annotations

from django_tasks import task

from civicloop.linkage.services import linkage_run


@task()
def link_records(
    merge_threshold: float | None = None, review_threshold: float | None = None
) -> int:
    """A linking run off the request path (as `civicloop link` does it); returns the run's id.

    Safe to enqueue often: with records and decisions unchanged it reuses the model and
    changes nothing.
    """
    run = linkage_run(merge_threshold=merge_threshold, review_threshold=review_threshold)
    return run.id
