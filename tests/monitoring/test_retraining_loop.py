"""The retraining loop end to end: planted drift -> alert -> trigger webhook -> a
training run registered with the trigger -> the new version assessed and approved ->
activated; the chain in order on the ledger, in the API and in the report."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.monitoring import services, webhooks
from apps.monitoring.models import Alert, RetrainingTrigger
from apps.registry.models import Deployment, ModelVersion
from tests.factories import AssessmentFactory, ClassificationFactory
from tests.monitoring.conftest import frame, record_batch
from tests.support import answers, assert_nothing_written, entry_types

pytestmark = pytest.mark.django_db
DRIFT = {"age": 1.2, "income": 1.0, "debt": -1.0}


@pytest.fixture
def pipeline_client(pipeline):
    return pipeline


@pytest.fixture
def retraining(post, monitored, receiver):
    """A policy asking for retraining, with an alert webhook and the pipeline's URL."""

    def make(**extra):
        alerts, pipeline = receiver(), receiver()
        policy = post(
            "monitoring-policy-list",
            {
                "deployment_id": monitored["deployment"].pk,
                "reference_dataset_version_id": monitored["reference"].pk,
                "webhook_urls": [alerts.url],
                "on_decay": "retrain",
                "pipeline_url": pipeline.url,
                "dispatch_event_type": "retrain-credit-model",
                **extra,
            },
        )
        return policy, alerts, pipeline

    return make


def drifted_batch(monitored, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return record_batch(monitored["deployment"], frame(1500, seed=12, shift=DRIFT))


def retrain(post, system, trigger_id, model, status=201):
    """What the pipeline does with the trigger: a run naming it, completed, and the
    version it trained."""
    run = post("training-run-list", {"system_id": system.pk, "trigger": trigger_id})
    post("training-run-complete", {"metrics": {"accuracy": 0.93}}, status=200, pk=run["id"])
    version = post(
        "model-version-list",
        {
            "version": "2",
            "artifact_sha256": "ab" * 32,
            "artifact_format": "onnx",
            "framework": "onnx",
            "framework_version": "1",
            "uri": "s3://models/2",
            "training_run_id": run["id"],
            "metrics": {"accuracy": 0.93},
        },
        model_pk=model.pk,
    )
    return run, version


def test_the_retraining_loop_from_drift_to_the_approved_version_serving(
    org,
    post,
    officer,
    pipeline_client,
    monitored,
    retraining,
    person,
    django_capture_on_commit_callbacks,
):
    system = monitored["system"]
    deployment = monitored["deployment"].pk
    # The version serving now is approved, so becoming high-risk does not stop it.
    officer_client, _ = person("compliance_officer", "officer@acme.example")
    first = post(
        "approval-list", {"deployment_id": deployment, "model_version_id": monitored["version"].pk}
    )
    post(
        "approval-decide",
        {"decision": "approve"},
        status=200,
        client=officer_client,
        pk=first["id"],
    )
    ClassificationFactory(system=system, answers=answers(annex_iii_area="employment"))
    policy, alerts, pipeline = retraining()
    drifted_batch(monitored, django_capture_on_commit_callbacks)
    alert = Alert.objects.get(kind="drift")
    trigger = RetrainingTrigger.objects.get(alert=alert)
    assert trigger.action == "retrain" and trigger.model_version == monitored["version"]
    # The pipeline got the trigger, signed, with a ready CI dispatch body.
    (request,) = pipeline.requests
    assert webhooks.signature_valid(
        secret=policy["webhook_secret"],
        header=request["headers"][webhooks.SIGNATURE_HEADER],
        body=request["body"],
    )
    payload = json.loads(request["body"])
    assert payload["ci_dispatch"]["event_type"] == "retrain-credit-model"
    assert payload["ci_dispatch"]["client_payload"]["trigger_id"] == str(trigger.pk)
    assert payload["register_run_with"]["body"] == {
        "system_id": str(system.pk),
        "trigger": str(trigger.pk),
    }
    assert len(alerts.requests) == 1
    # A run naming a trigger that does not exist is refused; nothing is written.
    post(
        "training-run-list",
        {"system_id": system.pk, "trigger": "019ad3c2-0000-7000-8000-000000000000"},
        status=404,
    )
    run, version = retrain(post, system, trigger.pk, monitored["version"].model)
    trigger.refresh_from_db()
    assert trigger.status == "answered" and str(trigger.training_run_id) == run["id"]
    # A second run cannot answer it again.
    post("training-run-list", {"system_id": system.pk, "trigger": trigger.pk}, status=409)
    AssessmentFactory(
        system=system,
        model_version=ModelVersion.objects.get(pk=version["id"]),
        thresholds={"accuracy": {"min": 0.8}},
        results={"rows": 4, "metrics": {"accuracy": {"value": 0.93, "ci": [0.9, 0.95]}}},
    )
    # High-risk: no activation before the approval.
    post("deployment-activate", {"model_version_id": version["id"]}, status=409, pk=deployment)
    request_ = post(
        "approval-list", {"deployment_id": deployment, "model_version_id": version["id"]}
    )
    post(
        "approval-decide",
        {"decision": "approve"},
        status=200,
        client=officer_client,
        pk=request_["id"],
    )
    post("deployment-activate", {"model_version_id": version["id"]}, status=200, pk=deployment)
    assert str(Deployment.objects.get(pk=deployment).model_version_id) == version["id"]
    # The chain, in ledger order, through the API.
    answer = pipeline_client.get(reverse("trigger-detail", kwargs={"pk": trigger.pk}))
    chain = answer.json()["chain"]
    assert [s["step"] for s in chain] == [
        "alert",
        "trigger",
        "training_run",
        "model_version",
        "assessment",
        "approval",
        "deployment",
    ]
    seqs = [s["seq"] for s in chain]
    assert seqs == sorted(seqs) and None not in seqs
    types = entry_types(org)
    assert types.index("retraining_trigger.created") < types.index("retraining_trigger.answered")
    # The post-market monitoring report prints the chain, in the same order.
    text = post_market_text(officer, system, django_capture_on_commit_callbacks)
    # A UUID may wrap in a table cell: the order is read with the spaces taken out.
    flat = "".join(text.split())
    actions = flat.index("stepwhat", flat.index(f"Retrainingtrigger#{trigger.pk}("))
    # Steps are printed in words ("training run #…"), as every stored key in a report.
    positions = [flat.index(f"{s['step'].replace('_', '')}#{s['id']}", actions) for s in chain]
    assert positions == sorted(positions), text
    assert "Monitoring plan (production)" in text and "drifted" in text


def post_market_text(client, system, django_capture_on_commit_callbacks) -> str:
    import io

    from pypdf import PdfReader

    now = timezone.now()
    payload = {
        "kind": "post_market_monitoring",
        "system_id": system.pk,
        "time_from": (now - timedelta(days=1)).isoformat(),
        "time_to": (now + timedelta(minutes=5)).isoformat(),
    }
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("report-list"), payload, format="json")
    assert answer.status_code == 202, answer.content
    download = client.get(reverse("report-download", kwargs={"pk": answer.json()["id"]}))
    assert download.status_code == 200, download
    pdf = b"".join(download.streaming_content)
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


def test_a_system_that_is_not_high_risk_activates_the_retrained_version_itself(
    org, post, monitored, retraining, django_capture_on_commit_callbacks
):
    retraining(auto_activate=True, activation_thresholds={"accuracy": {"min": 0.9}})
    drifted_batch(monitored, django_capture_on_commit_callbacks)
    trigger = RetrainingTrigger.objects.get()
    system = monitored["system"]
    _, version = retrain(post, system, trigger.pk, monitored["version"].model)
    # Assessed below the policy's bar: nothing goes live.
    AssessmentFactory(
        system=system,
        model_version=ModelVersion.objects.get(pk=version["id"]),
        thresholds={"accuracy": {"min": 0.5}},
        results={"rows": 4, "metrics": {"accuracy": {"value": 0.85}}},
    )
    assert services.triggers_auto_activate() == []
    AssessmentFactory(
        system=system,
        model_version=ModelVersion.objects.get(pk=version["id"]),
        thresholds={"accuracy": {"min": 0.5}},
        results={"rows": 4, "metrics": {"accuracy": {"value": 0.95}}},
    )
    assert services.triggers_auto_activate() == [trigger.pk]
    assert (
        str(Deployment.objects.get(pk=monitored["deployment"].pk).model_version_id) == version["id"]
    )
    assert "retraining_trigger.activated" in entry_types(org)
    with assert_nothing_written():
        assert services.triggers_auto_activate() == []


def test_an_unanswered_trigger_escalates_once_past_its_deadline(
    org, monitored, retraining, django_capture_on_commit_callbacks
):
    retraining(trigger_deadline_hours=1)
    drifted_batch(monitored, django_capture_on_commit_callbacks)
    trigger = RetrainingTrigger.objects.get()
    assert services.triggers_escalate() == []
    later = timezone.now() + timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        (escalated,) = services.triggers_escalate(now=later)
    assert escalated.pk == trigger.pk
    trigger.refresh_from_db()
    assert trigger.status == "escalated"
    overdue = Alert.objects.get(kind="trigger_overdue")
    assert overdue.severity == "critical" and str(trigger.pk) in overdue.cause
    assert not overdue.triggers.exists()  # an overdue trigger asks for no new trigger
    with assert_nothing_written():
        assert services.triggers_escalate(now=later) == []
