"""Plain helpers shared by tests of every folder: service requirements, ledger
tampering, "nothing was written" checks, reading the ledger, and synthetic data and
models. Fixtures live in tests/fixtures.py, objects made through the services in
tests/factories.py."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.db import connection

IN_CI = os.environ.get("CI", "").lower() == "true"
LEDGER_TABLES = ("ledger_entry", "ledger_treenode", "ledger_checkpoint")
# The apps whose rows a refused request must leave as they were (the ledger is
# checked through its own selectors).
DOMAIN_APPS = (
    "registry",
    "compliance",
    "reports",
    "explainability",
    "inference",
    "integrations",
    "tasks",
    "tenancy",
)


def require_service(name: str, available: bool, reason: str) -> None:
    if available:
        return
    message = f"{name} is needed for this test: {reason}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@contextlib.contextmanager
def ledger_triggers_disabled() -> Iterator[None]:
    """What a database superuser can always do: switch the append-only triggers off.
    Tests use it to tamper with the ledger, and to let a transactional test's flush
    through."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Django's foreign keys are deferred; ALTER TABLE waits for none pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in LEDGER_TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_truncate")
        else:
            for table in LEDGER_TABLES:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for table in LEDGER_TABLES:
                    cursor.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only")
                    cursor.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate")
            else:
                for table in LEDGER_TABLES:
                    for operation in ("UPDATE", "DELETE"):
                        cursor.execute(
                            f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} "
                            f"ON {table} BEGIN SELECT RAISE(ABORT, 'ledger: {operation} on {table} "
                            "refused; the ledger is append-only'); END"
                        )


def worker_database_url() -> str:
    """The URL of the database this test run uses, for worker processes we start."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}"


# --- Nothing written ---------------------------------------------------------------


def _ledger_sizes() -> dict[str, int]:
    from apps.ledger.selectors import checkpoint_latest, log_for
    from apps.tenancy.models import Organization

    sizes = {}
    for organization in Organization.objects.order_by("slug"):
        checkpoint = checkpoint_latest(log=log_for(organization=organization))
        sizes[organization.slug] = checkpoint.size if checkpoint else 0
    return sizes


def _domain_row_counts() -> dict[str, int]:
    from django.apps import apps

    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in DOMAIN_APPS
    }


@contextlib.contextmanager
def assert_nothing_written() -> Iterator[None]:
    """Asserts that the block (a refused request) left every organization's ledger at
    its size and every domain table at its row count: nothing is half written."""
    ledger_before, rows_before = _ledger_sizes(), _domain_row_counts()
    yield
    ledger_after, rows_after = _ledger_sizes(), _domain_row_counts()
    assert ledger_after == ledger_before, f"ledger grew: {ledger_before} -> {ledger_after}"
    changed = {
        label: (count, rows_after[label])
        for label, count in rows_before.items()
        if rows_after[label] != count
    }
    assert not changed, f"rows written (before, after): {changed}"


# --- Reading the ledger ------------------------------------------------------------


def _entries(org):
    from apps.ledger.models import Entry

    return Entry.objects.filter(log__organization=org)


def entry_types(org) -> list[str]:
    return list(_entries(org).order_by("seq").values_list("type", flat=True))


def entry_data(org, seq: int) -> dict:
    return json.loads(bytes(_entries(org).get(seq=seq).body))["data"]


def last_entry(org, type: str) -> dict:
    entry = _entries(org).filter(type=type).order_by("-seq").first()
    return json.loads(bytes(entry.body))


# --- Synthetic data ------------------------------------------------------------------

DATASHEET = {
    "design_choices": "Applicants of 2024-2025, one row per application.",
    "collection_process": "Exported from the loan origination system.",
    "data_origin": "Internal CRM",
    "original_purpose": "Loan servicing",
    "preparation_steps": {
        "cleaning": "Dropped duplicates",
        "labelling": "Default within 12 months",
    },
    "assumptions": "Past repayment predicts future repayment.",
    "suitability": "Covers all regions where the product is sold.",
    "bias_examination": "Approval rates compared by age band and sex.",
    "bias_mitigation": "Reweighing of under-represented age bands.",
    "data_gaps": "Few applicants over 75.",
}

# Classification questionnaire: a minimal-risk baseline.
BASELINE: dict[str, Any] = {
    "prohibited_practices": [],
    "annex_i_safety_component": False,
    "annex_iii_area": "none",
    "interacts_with_persons": False,
    "generates_synthetic_content": False,
    "emotion_recognition_or_biometric_categorisation": False,
    "deep_fake_or_public_interest_text": False,
    "general_purpose_ai_model": False,
}


# The follow-up answers a test means when it does not say: the area's first point (5(b)
# for essential services, credit scoring), no profiling, no exemption, nothing public,
# not yet on the market, no Art. 25 trigger.
DEFAULT_POINTS = {
    "biometrics": "1a",
    "critical_infrastructure": "2",
    "education": "3a",
    "employment": "4a",
    "essential_services": "5b",
    "law_enforcement": "6a",
    "migration": "7a",
    "justice_democracy": "8a",
}
FOLLOW_UP_DEFAULTS: dict[str, Any] = {
    "art_25_trigger": "none",
    "profiling": False,
    "art_6_3_exemption": "none",
    "biometrics_law_enforcement_or_migration": False,
    "harmonised_standards_in_full": False,
    "public_service_deployer": False,
    "public_authority_deployer": False,
    "workplace_use": False,
    "systemic_risk": False,
    "placed_on_market_on": "not_yet",
    "significant_change_since": False,
    "intended_for_public_authorities": False,
}


def answers(role: str = "provider", **overrides: Any) -> dict[str, Any]:
    """Baseline answers plus every follow-up question the answers so far make the
    questionnaire ask (FOLLOW_UP_DEFAULTS), unless overridden."""
    from apps.compliance import rules

    out = {**BASELINE, **overrides}
    if out["annex_iii_area"] != "none":
        out.setdefault("annex_iii_point", DEFAULT_POINTS[out["annex_iii_area"]])
    for question in rules.QUESTIONS:
        asked = question.when is None or question.when(out, role)
        if asked and question.key not in out and question.key in FOLLOW_UP_DEFAULTS:
            out[question.key] = FOLLOW_UP_DEFAULTS[question.key]
    return out


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parquet_bytes(columns: dict, row_group_size: int | None = None) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink, row_group_size=row_group_size)
    return sink.getvalue()


FEATURES = ["age", "income", "debt", "tenure"]


def make_frame(rows: int, seed: int = 0, features=FEATURES) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.normal(size=rows).round(4) for name in features}


def train_xgboost(
    rows: int = 2000, trees: int = 20, depth: int = 4, seed: int = 0, features=FEATURES
):
    import xgboost as xgb

    frame = make_frame(rows, seed, features)
    x = np.column_stack([frame[f] for f in features]).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] - x[:, 2] > 0).astype(np.float32)
    dtrain = xgb.DMatrix(x, label=y, feature_names=list(features))
    return xgb.train(
        {"objective": "binary:logistic", "max_depth": depth, "nthread": 2, "seed": seed},
        dtrain,
        num_boost_round=trees,
    )


def xgboost_bytes(booster, fmt: str = "json") -> bytes:
    return bytes(booster.save_raw(raw_format=fmt))


# The only packages the offline verifier may need besides the standard library
# (cryptography's compiled parts load cffi's backend).
OFFLINE_VERIFIER_PACKAGES = ("cryptography", "cffi", "_cffi_backend", "rfc8785")


def clean_python(folder: Path) -> Path:
    """A new virtual environment under ``folder`` whose Python sees the standard
    library and ``OFFLINE_VERIFIER_PACKAGES`` only (linked from this environment, so
    nothing is downloaded); returns its ``python``. What runs there cannot import this
    project, Django or any other package by accident."""
    import site
    import subprocess
    import sys

    venv, packages = folder / "venv", folder / "packages"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    packages.mkdir()
    source = Path(site.getsitepackages()[0])
    for name in OFFLINE_VERIFIER_PACKAGES:
        for path in source.glob(f"{name}*"):
            if path.name.split("-")[0].split(".")[0] == name:
                (packages / path.name).symlink_to(path)
    (site_packages,) = (venv / "lib").glob("python3*/site-packages")
    (site_packages / "offline-verifier-packages.pth").write_text(f"{packages}\n")
    return venv / "bin" / "python"


def sign_in_with_second_factor(client: Any, user: Any) -> None:
    """Logs ``user`` in on the test ``client`` as a login with their authenticator's
    code does (approving and closing incidents need it)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
