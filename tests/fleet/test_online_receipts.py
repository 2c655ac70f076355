"""Online decisions: KServe's logger CloudEvents and JSON Lines, paired, sealed into
prediction batches, each decision with a receipt that verifies offline."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.fleet.models import OnlineDecision, OnlineExchange
from apps.fleet.services.online import online_exchanges_sweep, online_seal
from apps.ledger.offline_verifier import main as verify_main
from apps.registry.models import PredictionBatch
from tests import factories
from tests.support import assert_nothing_written, entry_types

pytestmark = pytest.mark.django_db

REQUEST = "org.kubeflow.serving.inference.request"
RESPONSE = "org.kubeflow.serving.inference.response"
BATCH = "application/cloudevents-batch+json"


@pytest.fixture
def deployment(org):
    version = factories.ModelVersionFactory(model__system__organization=org)
    return factories.DeploymentFactory(system=version.model.system, serving=version)


def instance(n: int) -> dict:
    return {"age": 20 + n % 50, "income": 1000.5 * (n % 7), "region": f"r{n % 3}"}


def event(event_id: str, kind: str, body: dict) -> dict:
    return {
        "specversion": "1.0",
        "id": event_id,
        "type": REQUEST if kind == "request" else RESPONSE,
        "source": "http://localhost:9081/",
        "inferenceservicename": "credit",
        "namespace": "models",
        "component": "predictor",
        "endpoint": "default",
        "datacontenttype": "application/json",
        "data": body,
    }


def request_event(n: int) -> dict:
    return event(f"req-{n}", "request", {"instances": [instance(n)]})


def response_event(n: int) -> dict:
    return event(f"req-{n}", "response", {"predictions": [round(n / 10_000, 6)]})


@pytest.fixture
def send(pipeline, deployment, django_capture_on_commit_callbacks):
    def run(events, status=202, content_type=BATCH, **headers):
        url = reverse("online-cloudevents", kwargs={"pk": deployment.pk})
        body = json.dumps(events)
        with django_capture_on_commit_callbacks(execute=True):
            response = pipeline.post(url, data=body, content_type=content_type, **headers)
        assert response.status_code == status, response.content
        return response.json()

    return run


def test_ten_thousand_cloudevents_seal_and_one_receipt_verifies_offline(
    send, pipeline, deployment, settings, tmp_path, capsys
):
    settings.FLEET_SEAL_ROWS = 4_000
    rng = random.Random(7)
    events = [e for n in range(10_000) for e in (request_event(n), response_event(n))]
    # Some responses come before their requests, across posts.
    for n in rng.sample(range(10_000), 500):
        i = 2 * n
        events[i], events[i + 1] = events[i + 1], events[i]
    head = events[:4_000]
    rng.shuffle(head)
    events[:4_000] = head
    duplicated = [events[i] for i in rng.sample(range(len(events)), 300)]
    events += [*duplicated, request_event(10_000)]  # and one request never answered
    totals = {"decisions": 0, "duplicates": 0, "rejected": 0}
    for start in range(0, len(events), 1_000):
        outcome = send(events[start : start + 1_000])
        totals["decisions"] += outcome["decisions"]
        totals["duplicates"] += outcome["duplicates"]
        totals["rejected"] += len(outcome["rejected"])
    assert totals == {"decisions": 10_000, "duplicates": 300, "rejected": 0}

    # Two full batches were sealed as they filled; the rest waits for its time.
    batches = PredictionBatch.objects.filter(deployment=deployment).order_by("created_at", "pk")
    assert [b.row_count for b in batches] == [4_000, 4_000]
    online_seal(now=timezone.now() + timedelta(seconds=settings.FLEET_SEAL_SECONDS + 1))
    assert [b.row_count for b in batches.all()] == [4_000, 4_000, 2_000]
    assert OnlineDecision.objects.filter(batch__isnull=True).count() == 0
    assert entry_types(deployment.system.organization).count("prediction_batch.recorded") == 3

    # The unanswered request is reported, not sealed.
    later = timezone.now() + timedelta(seconds=settings.FLEET_UNPAIRED_SECONDS + 1)
    assert online_exchanges_sweep(now=later) == 1
    unpaired = pipeline.get(
        reverse("online-exchange-list", kwargs={"pk": deployment.pk}), {"state": "unpaired"}
    ).json()["results"]
    assert [(e["request_id"], e["reason"][:22]) for e in unpaired] == [
        ("req-10000", "no response was logged")
    ]
    assert not OnlineDecision.objects.filter(request_id="req-10000").exists()
    summary = pipeline.get(reverse("online-summary", kwargs={"pk": deployment.pk})).json()
    assert summary["sealed_decisions"] == 10_000 and summary["open_decisions"] == 0
    assert summary["exchanges"]["paired"] == 10_000 and summary["exchanges"]["unpaired"] == 1

    receipt = pipeline.get(
        reverse("online-decision-receipt", kwargs={"pk": deployment.pk, "request_id": "req-4321"})
    ).json()
    assert receipt["leaf_json"]["output"] == 0.4321
    (tmp_path / "receipt.json").write_text(json.dumps(receipt))
    (tmp_path / "row.json").write_text(json.dumps(instance(4321)))
    vkey = pipeline.get(reverse("ledger-keys")).content.decode().split()[0]
    args = ["receipt", str(tmp_path / "receipt.json"), "--vkey", vkey]
    assert verify_main([*args, "--input", str(tmp_path / "row.json")]) == 0
    assert "ok: the given input is the row's input" in capsys.readouterr().out
    (tmp_path / "row.json").write_text(json.dumps(instance(4322)))
    assert verify_main([*args, "--input", str(tmp_path / "row.json")]) == 1


def test_binary_mode_as_kserve_sends_it_pairs_by_ce_id(send, deployment):
    headers = {
        "HTTP_CE_SPECVERSION": "1.0",
        "HTTP_CE_ID": "b-1",
        "HTTP_CE_SOURCE": "http://localhost:9081/",
        "HTTP_CE_INFERENCESERVICENAME": "credit",
    }
    first = send(
        {"predictions": [1, 0]},
        content_type="application/json",
        HTTP_CE_TYPE=RESPONSE,
        **headers,
    )
    assert first == {"decisions": 0, "duplicates": 0, "waiting": 1, "rejected": []}
    second = send(
        {"instances": [[1.0, 2.0], [3.0, 4.0]]},
        content_type="application/json",
        HTTP_CE_TYPE=REQUEST,
        **headers,
    )
    assert second["decisions"] == 2
    decisions = OnlineDecision.objects.filter(request_id="b-1").order_by("part")
    assert [(d.part, d.output, d.input) for d in decisions] == [(0, 1, None), (1, 0, None)]
    exchange = OnlineExchange.objects.get(request_id="b-1")
    assert exchange.source["inferenceservicename"] == "credit"


def test_open_inference_protocol_tensors_give_one_decision_per_row(send):
    request = event(
        "v2",
        "request",
        {"inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3, 4]}]},
    )
    response = event(
        "v2",
        "response",
        {"outputs": [{"name": "p", "shape": [2], "datatype": "FP32", "data": [0.25, 0.75]}]},
    )
    assert send([request, response])["decisions"] == 2
    assert list(
        OnlineDecision.objects.filter(request_id="v2").order_by("part").values_list("output")
    ) == [(0.25,), (0.75,)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"specversion": "0.3"}, "specversion"),
        ({"type": "com.example.other"}, "type must be"),
        ({"id": ""}, "id is missing"),
        ({"data": {"rows": [1]}}, "instances"),
        ({"data_base64": "AAAA"}, "data_base64"),
    ],
)
def test_a_malformed_event_refuses_the_whole_post(send, change, message):
    events = [request_event(1), {**request_event(2), **change}]
    with assert_nothing_written():
        error = send(events, status=400)["error"]
    assert message in error["message"] and "events[1]" in error["fields"]


def test_binary_mode_without_headers_is_refused(send):
    with assert_nothing_written():
        error = send({"instances": [[1]]}, status=400, content_type="application/json")["error"]
    assert "ce-specversion" in error["message"]


def test_a_response_that_does_not_fit_its_request_is_rejected_with_the_reason(send):
    outcome = send(
        [
            event("m", "request", {"instances": [[1], [2]]}),
            event("m", "response", {"predictions": [1]}),
        ]
    )
    assert outcome["rejected"] == [
        {
            "id": "m",
            "reason": "the request holds 2 instances and the response 1 predictions: they "
            "cannot be paired",
        }
    ]
    assert OnlineExchange.objects.get(request_id="m").state == "rejected"
    assert not OnlineDecision.objects.exists()


def test_a_response_without_a_request_is_reported_not_sealed(send, settings):
    send([response_event(5)])
    later = timezone.now() + timedelta(seconds=settings.FLEET_UNPAIRED_SECONDS + 1)
    online_exchanges_sweep(now=later)
    exchange = OnlineExchange.objects.get(request_id="req-5")
    assert exchange.state == "unpaired"
    assert exchange.reason.startswith("a response without a request")
    assert online_seal(force=True) == []


def test_a_repeated_half_with_other_content_is_rejected_and_the_first_stays(send):
    send([request_event(1), response_event(1)])
    other = event("req-1", "response", {"predictions": [0.9]})
    outcome = send([other])
    assert "other content was refused" in outcome["rejected"][0]["reason"]
    assert OnlineDecision.objects.get(request_id="req-1").output == 0.0001


def jsonl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def test_json_lines_log_duplicates_once_and_seal_on_request(pipeline, deployment):
    url = reverse("online-decisions", kwargs={"pk": deployment.pk})
    rows = [{"id": f"d{n}", "input": instance(n), "output": n % 2} for n in range(50)]
    body = jsonl(rows + rows[:5])
    response = pipeline.post(url, data=body, content_type="application/x-ndjson")
    assert response.status_code == 202, response.content
    assert response.json() == {"decisions": 50, "duplicates": 5, "waiting": 0, "rejected": []}
    again = pipeline.post(url, data=jsonl(rows[:3]), content_type="application/x-ndjson")
    assert again.json()["duplicates"] == 3
    seal = reverse("online-seal", kwargs={"pk": deployment.pk})
    batch_ids = pipeline.post(seal).json()["prediction_batches"]
    assert PredictionBatch.objects.get(pk=batch_ids[0]).row_count == 50
    with assert_nothing_written():
        response = pipeline.post(seal)
    assert response.status_code == 409
    assert "sealed already" in response.json()["error"]["message"]


def test_a_malformed_line_refuses_the_post_and_names_the_line(pipeline, deployment):
    url = reverse("online-decisions", kwargs={"pk": deployment.pk})
    good = {"id": "a", "input": {"x": 1}, "output": 1}
    for body, where in (
        (jsonl([good, {"id": "b", "input": [1], "output": 1}]), "line 2"),
        (jsonl([good]) + "{not json\n", "line 2"),
        (jsonl([good, good, {"id": "c", "input": {}}]), "line 3"),
    ):
        with assert_nothing_written():
            response = pipeline.post(url, data=body, content_type="application/x-ndjson")
        assert response.status_code == 400, response.content
        assert where in json.dumps(response.json()["error"])


def test_inputs_are_only_digested_unless_the_organization_stores_them(pipeline, owner, deployment):
    url = reverse("online-decisions", kwargs={"pk": deployment.pk})
    pipeline.post(
        url,
        data=jsonl([{"id": "a", "input": {"x": 1}, "output": 1}]),
        content_type="application/x-ndjson",
    )
    assert OnlineDecision.objects.get(request_id="a").input is None
    response = owner.put(reverse("serving-policy"), {"store_inputs": True}, format="json")
    assert response.status_code == 200, response.content
    assert entry_types(deployment.system.organization)[-1] == "serving_policy.changed"
    pipeline.post(
        url,
        data=jsonl([{"id": "b", "input": {"x": 2}, "output": 0}]),
        content_type="application/x-ndjson",
    )
    assert OnlineDecision.objects.get(request_id="b").input == {"x": 2}


def test_a_deployment_serving_nothing_logs_nothing(pipeline, org):
    idle = factories.DeploymentFactory(system__organization=org)
    url = reverse("online-decisions", kwargs={"pk": idle.pk})
    with assert_nothing_written():
        response = pipeline.post(
            url,
            data=jsonl([{"id": "a", "input": {}, "output": 1}]),
            content_type="application/x-ndjson",
        )
    assert response.status_code == 409
    assert "serves no model version" in response.json()["error"]["message"]


def test_an_unsealed_decision_has_no_receipt_yet(pipeline, deployment):
    url = reverse("online-decisions", kwargs={"pk": deployment.pk})
    pipeline.post(
        url,
        data=jsonl([{"id": "a", "input": {}, "output": 1}]),
        content_type="application/x-ndjson",
    )
    receipt = reverse("online-decision-receipt", kwargs={"pk": deployment.pk, "request_id": "a"})
    assert pipeline.get(receipt).status_code == 409
    missing = reverse("online-decision-receipt", kwargs={"pk": deployment.pk, "request_id": "z"})
    assert pipeline.get(missing).status_code == 404
