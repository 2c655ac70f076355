"""The home page: the dashboard for a signed-in person, the login page otherwise.

What a person should see first: the organization's AI systems with their risk class
and how many of their obligations have evidence; open incidents with the time left to
each reporting deadline; open monitoring alerts and retraining triggers; approvals
waiting for them; the latest ledger entries; the log's current signed checkpoint.
Each part is one query or a fixed few, however many rows there are."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from apps.compliance import selectors as compliance
from apps.ledger import selectors as ledger
from apps.monitoring import selectors as monitoring
from apps.registry import selectors as registry
from apps.tenancy import second_factor
from apps.web.labels import with_subject_labels
from apps.web.views.base import member_of

RECENT_ENTRIES = 10
LISTED = 20  # rows of each list on the dashboard; its area's page has them all


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        # No ?next= for the home page itself: after logging in, people land here anyway.
        return redirect_to_login("", login_url="web:login", redirect_field_name="")
    member = member_of(request)
    if member is None:
        return render(request, "web/no_organization.html", status=403)
    organization = member.organization
    systems = list(registry.systems_of_organization(organization=organization))
    tallies = compliance.obligation_tallies(systems=systems)
    log = ledger.log_for(organization=organization)
    checkpoint = ledger.checkpoint_latest(log=log)
    context = {
        "systems": [{"system": s, **tallies[s.pk]} for s in systems],
        "incidents": list(compliance.incidents_open(organization=organization)[:LISTED]),
        "alerts": list(monitoring.alerts_open(organization=organization)[:LISTED]),
        "triggers": list(monitoring.triggers_open(organization=organization)[:LISTED]),
        "approvals": list(compliance.approvals_waiting_for(actor=member.principal)[:LISTED]),
        "entries": with_subject_labels(
            organization=organization,
            entries=list(
                ledger.entries_filtered(log=log)
                .order_by("-seq")
                .values("seq", "time", "type", "subject_kind", "subject_id", "actor_kind")[
                    :RECENT_ENTRIES
                ]
            ),
        ),
        "log_size": log.size,
        "checkpoint": ledger.checkpoint_facts(checkpoint=checkpoint) if checkpoint else None,
        "needs_second_factor": second_factor.role_needs_second_factor(role=member.role)
        and second_factor.totp_device_confirmed(user=request.user) is None,
    }
    return render(request, "web/dashboard.html", context)
