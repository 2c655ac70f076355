"""The client against a live test server (pytest-django's ``live_server``, on the
suite's database): every call goes over HTTP, as from a pipeline."""

from __future__ import annotations

import pytest

from audit_client import Client
from audit_client.cli import main as cli_main
from audit_platform.principal import Principal
from tests.factories import MembershipFactory


@pytest.fixture
def server(live_server, org, api_key_for, monkeypatch):
    """The live server's URL, with an owner's key of ``org`` in the environment the
    CLI reads (``AUDIT_PLATFORM_URL``, ``AUDIT_PLATFORM_API_KEY``)."""
    key = api_key_for(org, "owner")
    monkeypatch.setenv("AUDIT_PLATFORM_URL", live_server.url)
    monkeypatch.setenv("AUDIT_PLATFORM_API_KEY", key)
    return live_server.url


@pytest.fixture
def api(server):
    """A client of the live server; retries wait milliseconds, not seconds."""
    with Client(backoff=0.01) as client:
        yield client


@pytest.fixture
def cli(server, capsys):
    """``cli(*argv)`` runs ``audit-client`` in-process: (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli_main(["--quiet", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def system(api):
    return api.system_register(
        name="Credit scoring", intended_purpose="Creditworthiness of consumers", role="provider"
    )


@pytest.fixture
def person(org):
    """``person(role, email)``: a member of ``org`` acting in person (a Principal), for
    what only people may do: policy changes, approvals."""

    def make(role: str, email: str):
        membership = MembershipFactory(organization=org, email=email, role=role)
        return membership.user, Principal.for_user(
            organization=org, user=membership.user, role=role
        )

    return make
