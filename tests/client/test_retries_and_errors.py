"""Retries record once (the Idempotency-Key travels with every attempt), and every
failure a caller can meet is a typed exception and one line from the CLI."""

from __future__ import annotations

import httpx
import pytest

from apps.registry.models import TrainingRun
from audit_client import (
    AuthenticationFailed,
    Client,
    ConfigurationError,
    RejectedPayload,
    ServerUnreachable,
)
from tests.support import entry_types


class DropsAnswers(httpx.HTTPTransport):
    """Delivers each request, then loses the first ``drops`` answers to POSTs on the
    way back: the server has done the work, the caller sees a reset connection."""

    def __init__(self, drops: int = 1) -> None:
        super().__init__()
        self.drops = drops
        self.keys: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST":
            self.keys.append(request.headers["Idempotency-Key"])
            if self.drops:
                self.drops -= 1
                response.read()
                response.close()
                raise httpx.ReadError("connection reset by peer")
        return response


def test_an_answer_lost_mid_call_is_retried_and_recorded_once(server, system, org):
    transport = DropsAnswers(drops=2)
    before = entry_types(org).count("training_run.started")
    with Client(backoff=0.01, transport=transport) as api:
        run = api.training_run_start(system_id=system["id"], params={"depth": 4})
    assert len(transport.keys) == 3 and len(set(transport.keys)) == 1  # same key each time
    assert TrainingRun.objects.filter(system_id=system["id"]).count() == 1
    assert entry_types(org).count("training_run.started") == before + 1
    assert run["params"] == {"depth": 4}


def test_a_re_sent_completion_is_answered_with_the_first(api, system, org):
    run = api.training_run_start(system_id=system["id"])
    first = api.training_run_complete(run["id"], metrics={"auc": 0.9})
    again = api.training_run_complete(run["id"], metrics={"auc": 0.9})
    assert again == first
    assert entry_types(org).count("training_run.completed") == 1


class Unavailable(httpx.HTTPTransport):
    """Answers 503 to the first request without passing it on, like a proxy whose
    backend restarts."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls == 1:
            return httpx.Response(503, text="<html>Service Unavailable</html>")
        return super().handle_request(request)


def test_a_5xx_is_retried(server, system):
    transport = Unavailable()
    with Client(backoff=0.01, transport=transport) as api:
        assert api.system(system["id"])["name"] == "Credit scoring"
    assert transport.calls == 2


def test_bad_credentials_are_a_typed_error_and_one_cli_line(server, cli, monkeypatch):
    with (
        Client(api_key="sk_wrong", backoff=0.01) as api,
        pytest.raises(AuthenticationFailed) as caught,
    ):
        api.systems()
    assert caught.value.status == 401
    monkeypatch.setenv("AUDIT_PLATFORM_API_KEY", "sk_wrong")
    code, out, err = cli("run", "start", "--system", "1", "--no-environment")
    assert code == 4
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("audit-client: 401 ")


def test_an_unreachable_server_is_a_typed_error_and_one_cli_line(cli, monkeypatch):
    with (
        Client(url="http://127.0.0.1:9", api_key="k", backoff=0.001, max_retries=2) as api,
        pytest.raises(ServerUnreachable, match="after 3 attempts"),
    ):
        api.systems()
    monkeypatch.setenv("AUDIT_PLATFORM_URL", "http://127.0.0.1:9")
    code, _, err = cli("--retries", "0", "gate", "1", "--deployment", "1")
    assert code == 6
    assert err.count("\n") == 1 and "Cannot reach http://127.0.0.1:9" in err


def test_a_rejected_payload_names_the_field(api, cli, system):
    run = api.training_run_start(system_id=system["id"], capture_environment=False)
    with pytest.raises(RejectedPayload) as caught:
        api.training_run_fail(run["id"], reason="")
    assert caught.value.status == 400
    assert "reason" in caught.value.fields
    assert api.training_run_get(run["id"])["status"] == "running"
    code, _, err = cli("run", "finish", "no-such-run", "--metrics", '{"auc": 0.9}')
    assert code == 5, err
    assert err.count("\n") == 1 and err.startswith("audit-client: 404 ")


def test_missing_configuration_and_bad_arguments_exit_with_their_codes(cli, monkeypatch):
    monkeypatch.delenv("AUDIT_PLATFORM_URL")
    code, _, err = cli("gate", "1", "--deployment", "1")
    assert (code, err) == (3, "audit-client: No server URL: set AUDIT_PLATFORM_URL or --url.\n")
    with pytest.raises(ConfigurationError):
        Client()
    code, _, err = cli("gate", "1")
    assert code == 2 and "--deployment" in err and err.count("\n") == 1
    code, _, err = cli("run", "finish", "7", "--metrics", "{not json")
    assert code == 2 and "not valid JSON" in err
