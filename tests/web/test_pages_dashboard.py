"""The dashboard: what a person sees first, in a number of queries that does not grow
with the organization's records."""

from __future__ import annotations

import itertools
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.compliance import selectors as compliance
from tests.factories import AISystemFactory, ClassificationFactory, IncidentFactory

pytestmark = pytest.mark.django_db


_numbers = itertools.count()


def _systems(org, count: int) -> list:
    systems = []
    for _ in range(count):
        system = AISystemFactory(organization=org, name=f"System {next(_numbers):03d}")
        ClassificationFactory(system=system)
        IncidentFactory(system=system)
        systems.append(system)
    return systems


def test_the_dashboard_shows_systems_incidents_and_the_ledger(org, make_person, client_as):
    (system,) = _systems(org, 1)
    unclassified = AISystemFactory(organization=org, name="Unclassified one")
    html = client_as(make_person(org, "compliance_officer")).get("/").content.decode()
    tally = compliance.obligations_for_system(system=system)["obligations"]
    met = sum(item["status"] == "evidenced" for item in tally)
    row = re.search(
        rf'<tr>\s*<td><a href="/systems/{system.pk}/">{system.name}</a></td>.*?</tr>', html, re.S
    ).group(0)
    assert f"{met} / {len(tally)}" in row
    assert "not classified" in re.search(
        rf"<tr>\s*<td><a [^>]*>{unclassified.name}</a></td>.*?</tr>", html, re.S
    ).group(0)
    incidents = re.search(r'id="incidents-heading".*?</section>', html, re.S).group(0)
    assert system.name in incidents
    assert re.search(r"\d+ d \d+ h left", incidents)
    ledger = re.search(r'id="ledger-heading".*?</section>', html, re.S).group(0)
    assert re.search(r"<code>ai_system\.\w+</code>", ledger)


def test_recent_activity_names_each_record_in_words_linked_to_its_page(org, make_person, client_as):
    (system,) = _systems(org, 1)
    html = client_as(make_person(org, "auditor")).get("/").content.decode()
    ledger = re.search(r'id="ledger-heading".*?</section>', html, re.S).group(0)
    assert f'<a href="/systems/{system.pk}/">AI system {system.name}</a>' in ledger
    assert f"ai_system {system.pk}" not in ledger


def test_obligation_tallies_agree_with_each_systems_checklist(org):
    systems = [*_systems(org, 2), AISystemFactory(organization=org)]
    tallies = compliance.obligation_tallies(systems=systems)
    for system in systems:
        checklist = compliance.obligations_for_system(system=system)
        items = checklist["obligations"]
        assert tallies[system.pk]["total"] == len(items)
        assert tallies[system.pk]["met"] == sum(i["status"] == "evidenced" for i in items)
        assert tallies[system.pk]["missing"] == sum(
            i["status"] in ("missing", "overdue", "prohibited") for i in items
        )


def test_the_dashboards_queries_do_not_grow_with_the_number_of_rows(org, make_person, client_as):
    client = client_as(make_person(org, "owner"))
    _systems(org, 1)
    client.get("/")  # the session, the log and the content types are warm from here on

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/").status_code == 200
        return len(captured)

    few = queries()
    _systems(org, 4)
    assert queries() == few


def test_people_who_sign_test_reports_are_asked_to_set_up_a_second_factor(
    org, make_person, client_as
):
    engineer = client_as(make_person(org, "ml_engineer")).get("/").content.decode()
    assert "signs test reports:" in engineer and "Set up your authenticator" in engineer
    auditor = client_as(make_person(org, "auditor")).get("/").content.decode()
    assert "Set up your authenticator" not in auditor
