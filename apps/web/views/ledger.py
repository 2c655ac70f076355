"""The ledger explorer: the organization's entries filtered by type, subject, actor and
time, a page at a time; one entry decoded, with its proof to download; the current
signed checkpoint; "verify now" (the full verification, queued, with its progress);
the export bundle."""

from __future__ import annotations

import json
import tempfile
from typing import Any

import django_filters
import django_tables2 as tables
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from apps.ledger import selectors as ledger_selectors
from apps.ledger import services as ledger_services
from apps.ledger.core.entry import parse_entry
from apps.ledger.events import declared
from apps.ledger.export import bundle_write
from apps.web.labels import subject_labels
from apps.web.templatetags.web import local_time
from apps.web.views.base import member_required
from apps.web.views.tasks import task_context
from audit_platform.errors import NotFound
from audit_platform.roles import Capability

ENTRIES_PER_PAGE = 50


class EntryFilter(django_filters.FilterSet):
    """The explorer's filters. Declared on fields, not on the ledger's model: the page
    filters the queryset the ledger's selector gives it."""

    type = django_filters.ChoiceFilter(
        label="Event type", field_name="type", empty_label="any type", choices=[]
    )
    subject_kind = django_filters.CharFilter(label="Subject kind", field_name="subject_kind")
    subject_id = django_filters.CharFilter(label="Subject id", field_name="subject_id")
    actor_kind = django_filters.ChoiceFilter(
        label="Actor kind",
        field_name="actor_kind",
        empty_label="anyone",
        choices=[("user", "person"), ("api_key", "API key"), ("system", "operator")],
    )
    actor_id = django_filters.CharFilter(label="Actor id", field_name="actor_id")
    time_from = django_filters.DateTimeFilter(
        label="From (UTC)",
        field_name="time",
        lookup_expr="gte",
        widget=django_filters.widgets.forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    time_to = django_filters.DateTimeFilter(
        label="Before (UTC)",
        field_name="time",
        lookup_expr="lt",
        widget=django_filters.widgets.forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["type"].extra["choices"] = [(e.name, e.name) for e in declared()]


class EntryTable(tables.Table):
    seq = tables.Column(verbose_name="Seq", linkify=("web:ledger-entry", [tables.A("seq")]))
    time = tables.Column(verbose_name="Time")
    type = tables.Column(verbose_name="Type")
    subject = tables.Column(verbose_name="Subject", accessor="subject_id", orderable=False)
    actor = tables.Column(verbose_name="Actor", accessor="actor_id", orderable=False)

    class Meta:
        orderable = False
        attrs = {"class": "entries"}

    def render_time(self, value: Any) -> str:
        return local_time(value)

    # The page's subjects in words ({(kind, id): {"text", "url"}}), set by the view
    # once the table is paged, so that one query per kind names the whole page.
    labels: dict[tuple[str, str], dict[str, Any]] = {}

    def render_subject(self, record: Any) -> str:
        label = self.labels.get((record.subject_kind, str(record.subject_id)))
        if label is None:
            return format_html("{} <code>{}</code>", record.subject_kind, record.subject_id)
        if label["url"]:
            return format_html(
                '<a href="{}" title="{} {}">{}</a>',
                label["url"],
                record.subject_kind,
                record.subject_id,
                label["text"],
            )
        return format_html(
            '<span title="{} {}">{}</span>', record.subject_kind, record.subject_id, label["text"]
        )

    def render_actor(self, record: Any) -> str:
        return format_html("{} <code>{}</code>", record.actor_kind, record.actor_id)


def _log(request: HttpRequest) -> Any:
    return ledger_selectors.log_for(organization=request.member.organization)


@member_required
def explorer(request: HttpRequest) -> HttpResponse:
    log = _log(request)
    entries = ledger_selectors.entries_filtered(log=log).order_by("-seq").defer("body")
    filters = EntryFilter(request.GET or None, queryset=entries)
    table = EntryTable(filters.qs if filters.is_bound and filters.is_valid() else entries)
    tables.RequestConfig(request, paginate={"per_page": ENTRIES_PER_PAGE}).configure(table)
    table.labels = subject_labels(
        organization=request.member.organization,
        subjects=[
            (row.record.subject_kind, str(row.record.subject_id)) for row in table.page.object_list
        ],
    )
    checkpoint = ledger_selectors.checkpoint_latest(log=log)
    return render(
        request,
        "web/ledger/explorer.html",
        {
            "filters": filters,
            "table": table,
            "checkpoint": checkpoint,
            "can_verify": request.member.can(Capability.VERIFY),
        },
    )


def _entry(request: HttpRequest, seq: Any) -> tuple[Any, Any]:
    log = _log(request)
    try:
        return log, ledger_selectors.entry_at(log=log, seq=int(seq))
    except (ValueError, NotFound):
        raise Http404("No such entry in this organization's ledger.") from None


@member_required
def entry_page(request: HttpRequest, seq: Any) -> HttpResponse:
    log, entry = _entry(request, seq)
    decoded = parse_entry(bytes(entry.body))
    return render(
        request,
        "web/ledger/entry.html",
        {
            "entry": entry,
            "leaf_hash": bytes(entry.leaf_hash).hex(),
            "decoded": json.dumps(decoded, indent=2, sort_keys=True, ensure_ascii=False),
            "log": log,
            "checkpoint": ledger_selectors.checkpoint_latest(log=log),
        },
    )


@member_required
def entry_proof(request: HttpRequest, seq: Any) -> HttpResponse:
    """The entry's C2SP tlog-proof against the current checkpoint, as a file."""
    log, entry = _entry(request, seq)
    response = HttpResponse(
        ledger_selectors.tlog_proof(log=log, seq=entry.seq),
        content_type="text/plain; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="entry-{entry.seq}.tlog-proof"'
    return response


@require_POST
@member_required(write=Capability.VERIFY)
def verify_now(request: HttpRequest) -> HttpResponse:
    """Queues the full verification of the stored log; its progress shows in place."""
    record = ledger_services.log_verify_request(organization=request.member.organization)
    if request.htmx:
        return render(request, "web/tasks/_progress.html", task_context(request, record.pk))
    return redirect("web:task", task_id=record.pk)


@member_required(read=Capability.VERIFY)
def export(request: HttpRequest) -> FileResponse:
    """The export bundle (ZIP) at the current size, for offline verification."""
    log = _log(request)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    size = bundle_write(log=log, fileobj=spool)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"{log.origin.replace('/', '_')}-{size}.zip",
        content_type="application/zip",
    )
