"""Remote biometric identification (Annex III point 1(a)): the log of each use
(Art. 12(3)(a)-(d)) and the two-person verification before any action on a match
(Art. 14(5)), with its exception only as the user records it with the law relied on."""

from __future__ import annotations

import pytest

from tests.support import last_entry

BIOMETRIC = {"annex_iii_area": "biometrics", "annex_iii_point": "1a"}
INPUT = "ab" * 32


def codes(call, system_id: int) -> dict[str, str]:
    checklist = call("get", "system-obligations", status=200, pk=system_id)
    return {o["code"]: o["status"] for o in checklist["obligations"]}


def start_use(call, system_id: int, status: int = 201, **extra):
    payload = {
        "system_id": system_id,
        "started_at": "2026-11-03T09:00:00Z",
        "reference_database": "National wanted-persons list",
        **extra,
    }
    return call("post", "biometric-use-list", payload, status=status)


def match_of(call, use_id: int) -> dict:
    return call(
        "post",
        "biometric-match-create",
        {"input_sha256": INPUT, "input_reference": "s3://frames/0001.png"},
        pk=use_id,
    )


def verify(call, client, match_id: int, outcome: str = "confirmed", status: int = 200):
    return call(
        "post",
        "biometric-match-verify",
        {"outcome": outcome},
        status=status,
        client=client,
        pk=match_id,
    )


def act(call, match_id: int, status: int = 200):
    return call(
        "post", "biometric-match-act", {"action": "Stop and question"}, status=status, pk=match_id
    )


@pytest.mark.parametrize(
    ("role", "answers", "expected"),
    [
        pytest.param(
            "provider", BIOMETRIC, True, id="Art. 12(3) Art. 14(5) Annex III 1(a) provider"
        ),
        pytest.param(
            "deployer", BIOMETRIC, True, id="Art. 12(3) Art. 14(5) Annex III 1(a) deployer"
        ),
        pytest.param(
            "deployer",
            {"annex_iii_area": "biometrics", "annex_iii_point": "1a_verification_only"},
            False,
            id="Annex III 1(a) exclusion 1:1 verification has no Art. 12(3) log",
        ),
        pytest.param(
            "deployer",
            {"annex_iii_area": "biometrics", "annex_iii_point": "1c"},
            False,
            id="Annex III 1(c) emotion recognition is not Art. 14(5)",
        ),
        pytest.param(
            "provider",
            {**BIOMETRIC, "art_6_3_exemption": "preparatory_task"},
            False,
            id="Art. 6(3) exempted 1(a) system is not high-risk",
        ),
    ],
)
def test_the_log_and_the_two_person_rule_bind_point_1a_systems(
    call, make_system, role, answers, expected
):
    system = make_system(role=role, **answers)
    found = codes(call, system["id"])
    assert ("art_12_3" in found, "art_14_5" in found) == (expected, expected)


def test_each_use_logs_the_four_fields_of_art_12_3(call, make_system, person, org):
    system = make_system(role="deployer", **BIOMETRIC)
    use = start_use(call, system["id"])
    assert codes(call, system["id"])["art_12_3"] == "upcoming"
    match = match_of(call, use["id"])
    first, alice = person("compliance_officer", "alice@example.org")
    second, bob = person("ml_engineer", "bob@example.org")
    verify(call, first, match["id"])
    verify(call, second, match["id"])
    act(call, match["id"])
    call(
        "post", "biometric-use-end", {"ended_at": "2026-11-03T11:30:00Z"}, status=200, pk=use["id"]
    )

    logged = call("get", "biometric-use-detail", status=200, pk=use["id"])
    assert logged["started_at"] == "2026-11-03T09:00:00Z"  # Art. 12(3)(a)
    assert logged["ended_at"] == "2026-11-03T11:30:00Z"  # Art. 12(3)(a)
    assert logged["reference_database"] == "National wanted-persons list"  # (b)
    assert logged["matches"][0]["input_sha256"] == INPUT  # (c)
    verifiers = {v["verified_by"] for v in logged["matches"][0]["verifications"]}
    assert verifiers == {str(alice.person_id), str(bob.person_id)}  # (d)
    acted = last_entry(org, "biometric_use.match_acted_on")["data"]
    assert sorted(acted["confirmed_by_user_ids"]) == sorted(
        [str(alice.person_id), str(bob.person_id)]
    )
    assert acted["required"] == 2
    found = codes(call, system["id"])
    assert (found["art_12_3"], found["art_14_5"]) == ("evidenced", "evidenced")


@pytest.mark.parametrize(
    ("verifications", "allowed"),
    [
        pytest.param([], False, id="Art. 14(5) no verification refused"),
        pytest.param([("a", "confirmed")], False, id="Art. 14(5) one person refused"),
        pytest.param(
            [("a", "confirmed"), ("b", "not_confirmed")],
            False,
            id="Art. 14(5) one confirmation and one not confirmed refused",
        ),
        pytest.param(
            [("a", "confirmed"), ("b", "confirmed")], True, id="Art. 14(5) two persons allowed"
        ),
    ],
)
def test_a_match_is_acted_on_only_after_two_separate_confirmations(
    call, make_system, person, verifications, allowed
):
    system = make_system(role="deployer", **BIOMETRIC)
    match = match_of(call, start_use(call, system["id"])["id"])
    people = {"a": person("owner", "a@example.org")[0], "b": person("owner", "b@example.org")[0]}
    for who, outcome in verifications:
        verify(call, people[who], match["id"], outcome)
    if allowed:
        assert act(call, match["id"])["status"] == "acted_on"
    else:
        message = act(call, match["id"], status=409)["error"]["message"]
        assert "Art. 14(5)" in message
        assert "at least 2 natural person(s)" in message


def test_the_same_person_cannot_verify_twice(call, make_system, person):
    system = make_system(role="deployer", **BIOMETRIC)
    match = match_of(call, start_use(call, system["id"])["id"])
    client, _ = person("owner", "a@example.org")
    verify(call, client, match["id"])
    error = verify(call, client, match["id"], status=409)["error"]
    assert "separate verifications by different persons" in error["message"]
    assert "Art. 14(5)" in act(call, match["id"], status=409)["error"]["message"]


def test_an_api_key_cannot_verify(call, make_system, officer):
    system = make_system(role="deployer", **BIOMETRIC)
    match = match_of(call, start_use(call, system["id"])["id"])
    error = verify(call, officer, match["id"], status=403)["error"]
    assert "natural persons" in error["message"]


def test_a_system_not_in_point_1a_logs_no_use(call, make_system):
    system = make_system(role="deployer", annex_iii_area="employment", annex_iii_point="4a")
    error = start_use(call, system["id"], status=409)["error"]
    assert "Annex III point 1(a)" in error["message"]


def test_a_use_cannot_end_before_it_started(call, make_system):
    system = make_system(role="deployer", **BIOMETRIC)
    error = start_use(call, system["id"], status=400, ended_at="2026-11-03T08:00:00Z")["error"]
    assert error["fields"]["ended_at"]


LAW_ENFORCEMENT = {**BIOMETRIC, "biometrics_law_enforcement_or_migration": True}
SETTING = {
    "exception_applies": True,
    "area": "law_enforcement",
    "legal_basis": "National Police Act, s. 12 (two-person verification disproportionate)",
}


def test_the_exception_applies_only_as_recorded_with_its_law(call, make_system, person, org):
    system = make_system(role="deployer", **LAW_ENFORCEMENT)
    match = match_of(call, start_use(call, system["id"])["id"])
    client, _ = person("owner", "a@example.org")
    verify(call, client, match["id"])
    # Nothing recorded: the two-person rule applies, even in law enforcement.
    assert "Art. 14(5)" in act(call, match["id"], status=409)["error"]["message"]
    setting = call("post", "dual-verification-list", {"system_id": system["id"], **SETTING})
    assert setting["version"] == 1
    entry = last_entry(org, "dual_verification.set")["data"]
    assert entry["exception_applies"] is True
    assert "legal_basis_sha256" in entry
    act(call, match["id"])
    acted = last_entry(org, "biometric_use.match_acted_on")["data"]
    assert (acted["required"], acted["exception_setting_version"]) == (1, 1)


@pytest.mark.parametrize(
    ("answers", "body", "field"),
    [
        pytest.param(
            BIOMETRIC,
            SETTING,
            "exception_applies",
            id="Art. 14(5) second subparagraph conflict outside law enforcement or migration",
        ),
        pytest.param(
            LAW_ENFORCEMENT,
            {**SETTING, "legal_basis": ""},
            "legal_basis",
            id="Art. 14(5) second subparagraph needs the law relied on",
        ),
        pytest.param(
            LAW_ENFORCEMENT,
            {**SETTING, "area": "schools"},
            "area",
            id="Art. 14(5) second subparagraph areas only",
        ),
        pytest.param(
            LAW_ENFORCEMENT,
            {"exception_applies": False, "legal_basis": "x"},
            "exception_applies",
            id="Art. 14(5) a legal basis without the exception is a conflict",
        ),
    ],
)
def test_a_contradictory_exception_setting_is_refused(call, make_system, answers, body, field):
    system = make_system(role="deployer", **answers)
    error = call("post", "dual-verification-list", {"system_id": system["id"], **body}, status=400)[
        "error"
    ]
    assert field in error["fields"]
