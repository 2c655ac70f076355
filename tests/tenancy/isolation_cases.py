"""Isolation cases for the tenancy, task and ledger routes (see tests/api_routes.py)."""

from __future__ import annotations

from typing import Any

from apps.tasks.services import task_record_create
from apps.tenancy import invitations
from tests import factories
from tests.api_routes import DETAIL, RouteCase


def victim(org) -> dict[str, Any]:
    return {
        "api_key": factories.ApiKeyFactory(
            organization=org, role="pipeline", name="victim-pipeline"
        ),
        "membership": factories.MembershipFactory(
            organization=org, email="officer@a.example", role="compliance_officer"
        ),
        "task": task_record_create(organization=org, kind="ledger.verify"),
        "invitation": invitations.invitation_create(
            organization=org,
            email="invited@a.example",
            role="auditor",
            actor=factories.tests_actor(org),
        )[0],
    }


def secrets(objects: dict[str, Any]) -> list[str]:
    return [
        objects["api_key"].prefix,
        "officer@a.example",
        "invited@a.example",
        objects["api_key"].organization.ledger_log.origin,
    ]


CASES = {
    "organization": RouteCase("get", lambda v: {}, 200),
    "api-key-list": RouteCase("get", lambda v: {}, 200),
    "api-key-revoke": RouteCase("post", lambda v: {"pk": v["api_key"].pk}, DETAIL),
    "api-key-rotate": RouteCase("post", lambda v: {"pk": v["api_key"].pk}, DETAIL),
    "membership-list": RouteCase("get", lambda v: {}, 200),
    "membership-detail": RouteCase("get", lambda v: {"pk": v["membership"].pk}, DETAIL),
    "invitation-list": RouteCase("get", lambda v: {}, 200),
    "invitation-revoke": RouteCase("post", lambda v: {"pk": v["invitation"].pk}, DETAIL),
    # Only the token of the link counts; another organization's key gains nothing.
    "invitation-accept": RouteCase("post", lambda v: {}, 400, body={"token": "not-a-token"}),
    "task-detail": RouteCase("get", lambda v: {"pk": v["task"].pk}, DETAIL),
    "ledger-checkpoint": RouteCase("get", lambda v: {}, 200),
    # The victim's log is longer than the other organization's: these sizes and seqs
    # exist only in the victim's.
    "ledger-checkpoint-at": RouteCase("get", lambda v: {"size": 3}, DETAIL),
    "ledger-keys": RouteCase("get", lambda v: {}, 200),
    "ledger-entries": RouteCase("get", lambda v: {}, 200),
    "ledger-entry-proof": RouteCase("get", lambda v: {"seq": 2}, DETAIL),
    "ledger-inclusion-proof": RouteCase("get", lambda v: {}, 200, query={"index": 0, "size": 1}),
    "ledger-consistency-proof": RouteCase("get", lambda v: {}, 200, query={"old": 1, "new": 1}),
    "ledger-export": RouteCase("get", lambda v: {}, 200),
    "ledger-verify": RouteCase("post", lambda v: {}, 202),
}
