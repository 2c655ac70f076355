"""The fleet page: the workers that run the heavy work (online or not, their queues and
GPUs), and the energy the organization's batches took on them per day and per AI
system, with its cost. It only shows; changes come from the workers' heartbeats."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from apps.fleet import selectors as fleet_selectors
from apps.web.labels import subject_labels
from apps.web.views.base import member_required

# The period of the energy chart and table, up to now.
ENERGY_DAYS = 30


@member_required
def fleet_page(request: HttpRequest) -> HttpResponse:
    organization = request.member.organization
    now = timezone.now()
    energy = fleet_selectors.energy_overview(
        organization=organization, start=now - timedelta(days=ENERGY_DAYS), end=now
    )
    names = subject_labels(
        organization=organization,
        subjects=[("ai_system", group["system"]) for group in energy["groups"]],
    )
    for group in energy["groups"]:
        group["label"] = names[("ai_system", group["system"])]
    workers = fleet_selectors.workers_inventory(now=now)
    return render(
        request,
        "web/fleet.html",
        {
            "workers": workers,
            "online": sum(w["state"] == "online" for w in workers),
            "energy": energy,
            "energy_days": ENERGY_DAYS,
        },
    )
