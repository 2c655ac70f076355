"""Retention duties (Art. 18(1), Art. 19(1), Art. 26(6)) count as met only when the
system's current retention setting covers them."""

from __future__ import annotations

import pytest

from tests.support import last_entry

EMPLOYMENT = {"annex_iii_area": "employment", "annex_iii_point": "4a"}


def statuses(call, system_id: int) -> dict[str, str]:
    checklist = call("get", "system-obligations", status=200, pk=system_id)
    return {o["code"]: o["status"] for o in checklist["obligations"]}


def retention(call, system_id: int, years: int, months: int, status: int = 201):
    return call(
        "post",
        "retention-list",
        {"system_id": system_id, "documentation_years": years, "log_months": months},
        status=status,
    )


@pytest.mark.parametrize(
    ("years", "months", "art_18", "art_19"),
    [
        pytest.param(10, 6, "evidenced", "evidenced", id="Art. 18(1) 10 years Art. 19(1) 6 months"),
        pytest.param(9, 6, "upcoming", "evidenced", id="Art. 18(1) 9 years is too short"),
        pytest.param(10, 5, "evidenced", "upcoming", id="Art. 19(1) 5 months is too short"),
    ],
)
def test_provider_retention_duties_follow_the_setting(
    call, make_system, org, years, months, art_18, art_19
):
    system = make_system(**EMPLOYMENT)
    assert statuses(call, system["id"])["art_18"] == "upcoming"
    setting = retention(call, system["id"], years, months)
    assert setting["version"] == 1
    found = statuses(call, system["id"])
    assert (found["art_18"], found["art_19"]) == (art_18, art_19)
    entry = last_entry(org, "retention.set")
    assert entry["data"]["documentation_years"] == years
    assert entry["data"]["log_months"] == months


def test_an_attached_document_does_not_meet_a_retention_duty(call, make_system):
    system = make_system(**EMPLOYMENT)
    call(
        "post",
        "obligation-evidence-list",
        {
            "system_id": system["id"],
            "obligation": "art_18",
            "description": "Retention policy",
            "uri": "https://example.org/policy.pdf",
        },
    )
    assert statuses(call, system["id"])["art_18"] == "upcoming"


def test_a_later_shorter_setting_takes_the_duty_back(call, make_system):
    system = make_system(role="deployer", **EMPLOYMENT)
    retention(call, system["id"], 10, 6)
    assert statuses(call, system["id"])["art_26_6"] == "evidenced"
    assert retention(call, system["id"], 10, 3)["version"] == 2
    assert statuses(call, system["id"])["art_26_6"] == "upcoming"


@pytest.mark.parametrize(("years", "months"), [(0, 6), (10, 0), (500, 6), (10, -1)])
def test_out_of_range_retention_is_refused_and_writes_nothing(call, make_system, years, months):
    system = make_system(**EMPLOYMENT)
    error = retention(call, system["id"], years, months, status=400)["error"]
    assert "Retention periods out of range" in error["message"]
