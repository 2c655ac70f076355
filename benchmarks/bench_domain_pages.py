"""Server time of the web UI's pages on a large organization, against Django's admin.

Usage: python benchmarks/bench_domain_pages.py [--systems 50] [--versions 500] [--entries 100000]
       [--runs 5] [--keep]

Seeds one organization with ``--systems`` AI systems (each classified, with a
production deployment serving one of its versions), ``--versions`` model versions
spread over them, and ledger entries up to ``--entries`` (the rest appended in bulk as
prediction-batch entries). Then renders each page of the UI ``--runs`` times through
Django's test client (the whole request: middleware, session, view, queries,
template) and prints each page's median server time and the slowest. Target: every
page under 300 ms.

Named baseline: **Django's admin change list of the same organization's model
versions** (Django's own paged table, 100 rows a page, over the same database),
rendered the same way in the same run; the ratio to it is printed for each page.

The database: a database ``bench_domain_pages`` on postgres://postgres@127.0.0.1:5432,
dropped and created afresh, and dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_postgres import database_drop, database_recreate, setup_django  # noqa: E402

BENCH_DB = "bench_domain_pages"
TARGET_MS = 300.0
CHUNK = 5_000


def seed(*, systems: int, versions: int, entries: int):
    from django.contrib.auth import get_user_model

    from apps.compliance import services as compliance
    from apps.ledger.selectors import log_for
    from apps.ledger.services import entries_append
    from apps.ledger.types import Actor, EntryDraft, Subject
    from apps.registry import services as registry
    from apps.reports.demo import PROVISIONAL_ANSWERS
    from apps.tenancy.services import membership_add, organization_create
    from audit_platform.principal import Principal

    start = time.perf_counter()
    org = organization_create(slug="bench-pages", name="Bench Bank")
    actor = Principal.system(organization=org, name="bench")
    per_system = max(1, versions // systems)
    first_system = None
    for s in range(systems):
        system, _ = registry.ai_system_register(
            actor=actor,
            name=f"System {s:03d}",
            intended_purpose="Scores applications.",
            role="provider",
        )
        first_system = first_system or system
        compliance.classification_record(actor=actor, system=system, answers=PROVISIONAL_ANSWERS)
        model, _ = registry.model_create(actor=actor, system=system, name="scorer")
        deployment, _ = registry.deployment_create(
            actor=actor, system=system, environment="production"
        )
        for v in range(per_system):
            version, _ = registry.model_version_register(
                actor=actor,
                model=model,
                version=f"{v}.0",
                artifact_sha256=hashlib.sha256(b"%d-%d" % (s, v)).hexdigest(),
                artifact_format="onnx",
                framework="onnx",
                framework_version="1",
                uri=f"s3://models/{s}/{v}",
            )
            if v < 2:
                registry.deployment_activate(
                    actor=actor, deployment=deployment, model_version=version
                )
    log = log_for(organization=org)
    who = Actor(kind="system", id="bench", name="bench")
    while log.size < entries:
        n = min(CHUNK, entries - log.size)
        drafts = [
            EntryDraft(
                type="prediction_batch.recorded",
                actor=who,
                subject=Subject(kind="prediction_batch", id=str(log.size + i)),
                data={"i": log.size + i},
            )
            for i in range(n)
        ]
        entries_append(organization=org, drafts=drafts)
        log = log_for(organization=org)
    email = "owner@bench.example.invalid"
    membership_add(organization=org, email=email, role="owner", actor=actor)
    user = get_user_model().objects.get(email=email)
    print(
        f"seeded {systems} systems, {systems * per_system} model versions, {log.size} ledger "
        f"entries in {time.perf_counter() - start:.1f} s"
    )
    return org, user, first_system


def median_ms(client, url: str, runs: int) -> float:
    client.get(url)  # warm: templates compiled, connection open
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", type=int, default=50)
    parser.add_argument("--versions", type=int, default=500)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    url = database_recreate(BENCH_DB)
    setup_django(url, media=tempfile.mkdtemp(prefix="bench-domain-pages-"))
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    try:
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.test import Client
        from django.urls import reverse

        if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        _, user, system = seed(systems=args.systems, versions=args.versions, entries=args.entries)
        version = system.models.get().versions.order_by("-created_at").first()
        deployment = system.deployments.get()
        client = Client()
        client.force_login(user)
        pages = {
            "dashboard": reverse("web:home"),
            "systems": reverse("web:systems"),
            "system page": reverse("web:system", args=[system.pk]),
            "approvals": reverse("web:approvals"),
            "incidents": reverse("web:incidents"),
            "ledger explorer": reverse("web:ledger"),
            "ledger explorer, last page": reverse("web:ledger") + f"?page={args.entries // 50}",
            "ledger explorer, filtered": reverse("web:ledger") + "?type=model_version.registered",
            "ledger entry": reverse("web:ledger-entry", args=[args.entries // 2]),
            "model version": reverse("web:record", args=["model_version", version.pk]),
            "deployment": reverse("web:record", args=["deployment", deployment.pk]),
            "reports": reverse("web:reports"),
        }
        admin = get_user_model().objects.create_superuser(
            "bench-admin", "admin@bench.example.invalid", "x"
        )
        admin_client = Client()
        admin_client.force_login(admin)
        baseline = median_ms(
            admin_client, reverse("admin:registry_modelversion_changelist"), args.runs
        )
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"CPU: {_cpu_model()}, {os.cpu_count()} cores, load average {load}")
        print(f"baseline: Django admin change list of model versions {baseline:.1f} ms")
        results = {name: median_ms(client, path, args.runs) for name, path in pages.items()}
        for name, ms in results.items():
            print(f"{name:28s} {ms:7.1f} ms  ratio to baseline {ms / baseline:4.2f}x")
        slowest = max(results, key=results.get)
        verdict = "OK" if results[slowest] < TARGET_MS else "OVER TARGET"
        print(
            f"slowest page: {slowest} {results[slowest]:.1f} ms (median of {args.runs}) | "
            f"target < {TARGET_MS:.0f} ms: {verdict}"
        )
    finally:
        if not args.keep:
            database_drop(BENCH_DB)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
