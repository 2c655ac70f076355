"""Progress of queued work (verifying the ledger, rendering a report): a page with a
progress bar that htmx refreshes every second while the work runs, and that reads
without JavaScript too (reload it)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from apps.tasks import selectors as task_selectors
from apps.web.views.base import member_required

# Seconds between two polls of a running job's progress.
POLL_SECONDS = 1


def task_context(request: HttpRequest, task_id: Any) -> dict[str, Any]:
    task = task_selectors.task_record_of_organization(
        organization=request.member.organization, task_id=task_id
    )
    if task is None:
        raise Http404("No such task in this organization.")
    return {"task": task, "done": task.state in ("succeeded", "failed"), "poll": POLL_SECONDS}


@member_required
def task_progress(request: HttpRequest, task_id: Any) -> HttpResponse:
    """The progress fragment with htmx (it replaces itself, and stops polling once the
    task is done), the whole page without."""
    context = task_context(request, task_id)
    template = "web/tasks/_progress.html" if request.htmx else "web/tasks/progress.html"
    return render(request, template, context)
