"""Questionnaire errors, versioning, and what goes on the ledger."""

from __future__ import annotations

from apps.compliance.models import Classification
from tests.support import BASELINE, answers, entry_types, last_entry


def test_incomplete_questionnaire_names_every_unanswered_question_and_writes_nothing(
    call, make_system, org
):
    system = make_system(classify=False)
    before = entry_types(org)
    partial = {
        k: v for k, v in BASELINE.items() if k not in ("annex_iii_area", "prohibited_practices")
    }
    error = call(
        "post",
        "classification-list",
        {"system_id": system["id"], "answers": partial},
        status=400,
    )["error"]
    assert error["message"] == (
        "The questionnaire is incomplete: unanswered annex_iii_area, prohibited_practices."
    )
    assert set(error["fields"]) == {"answers.annex_iii_area", "answers.prohibited_practices"}
    assert not Classification.objects.exists()
    assert entry_types(org) == before


def test_follow_up_questions_of_an_annex_iii_area_must_be_answered(call, make_system):
    system = make_system(classify=False)
    error = call(
        "post",
        "classification-list",
        {"system_id": system["id"], "answers": {**BASELINE, "annex_iii_area": "education"}},
        status=400,
    )["error"]
    assert (
        "unanswered annex_iii_point, art_6_3_exemption, placed_on_market_on, profiling"
        in error["message"]
    )


def test_invalid_and_unknown_answers_are_refused_by_name(call, make_system):
    system = make_system(classify=False)
    bad = {**BASELINE, "annex_iii_area": "astrology", "favourite_colour": "blue"}
    bad.update(
        profiling=False,
        art_6_3_exemption="none",
        annex_iii_point="3a",
        placed_on_market_on="not_yet",
    )
    bad["interacts_with_persons"] = "yes"
    error = call(
        "post", "classification-list", {"system_id": system["id"], "answers": bad}, status=400
    )["error"]
    assert set(error["fields"]) == {
        "answers.annex_iii_area",
        "answers.favourite_colour",
        "answers.interacts_with_persons",
    }
    assert error["fields"]["answers.favourite_colour"] == ["Unknown question."]


def test_reclassification_is_a_new_version_and_the_old_one_stays(call, make_system, org):
    system = make_system()
    call(
        "post",
        "classification-list",
        {"system_id": system["id"], "answers": answers(annex_iii_area="employment")},
    )
    versions = call("get", "classification-list", status=200)["results"]
    assert [(v["version"], v["category"]) for v in versions] == [
        (2, "high_risk"),
        (1, "minimal_risk"),
    ]
    checklist = call("get", "system-obligations", status=200, pk=system["id"])
    assert checklist["classification"]["version"] == 2
    entry = last_entry(org, "classification.recorded")
    assert entry["data"]["version"] == 2
    assert entry["data"]["supersedes"] == 1
    assert entry["data"]["category"] == "high_risk"
    assert len(entry["data"]["rationale_sha256"]) == 64
    assert entry_types(org).count("classification.recorded") == 2


def test_questionnaire_lists_every_question(call):
    questions = call("get", "compliance-questionnaire", status=200)
    keys = {q["key"] for q in questions}
    assert {"prohibited_practices", "annex_iii_area", "profiling", "systemic_risk"} <= keys


def test_auditors_and_pipelines_cannot_classify(client_for, org, make_system):
    from django.urls import reverse

    system = make_system(classify=False)
    for role in ("auditor", "pipeline", "ml_engineer"):
        response = client_for(org, role).post(
            reverse("classification-list"),
            {"system_id": system["id"], "answers": answers()},
            format="json",
        )
        assert response.status_code == 403, role
    assert client_for(org, "auditor").get(reverse("classification-list")).status_code == 200
