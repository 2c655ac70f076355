"""Time report generation against WeasyPrint alone, in the same run.

Usage: python benchmarks/bench_reports.py [--versions 50] [--entries 10000] [--keep]

Named baseline: **WeasyPrint rendering the very same HTML to a plain PDF** (no data
gathering, no PDF/A variant or tags, no attachments, no tlog-proofs, no signing, no
ledger entry). "Ours" is the whole job as a worker runs it: gather the record,
verify the log (audit trail), render tagged PDF/A-3a with the records and every
cited entry's tlog-proof embedded, sign (PAdES), store, and record the digest on the
ledger. The script prints both and their ratio.

1. Annex IV for a system with ``--versions`` model versions and ``--entries`` ledger
   entries (the rest are prediction batches). Target: at most 10 s.
2. Audit-trail report of ``--entries`` entries. Target: at most 30 s.
3. Memory: the audit-trail report of a quarter and of all entries, each in a fresh
   process; prints peak RSS above the process's RSS before generation, next to the
   PDF size, so growth can be judged against the rendered document.

The database: DATABASE_URL if set (a fresh organization is made in it), otherwise a
database ``bench_reports`` on postgres://postgres@127.0.0.1:5432, dropped and created
afresh, and dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_postgres import database_drop, database_recreate, setup_django  # noqa: E402

BENCH_DB = "bench_reports"


def prepare_database() -> tuple[str, bool]:
    given = os.environ.get("DATABASE_URL")
    if given:
        return given, False
    return database_recreate(BENCH_DB), True


def seed(*, versions: int, entries: int):
    from apps.ledger.selectors import log_for
    from apps.registry import services as registry
    from apps.reports.demo import demo_system_seed
    from apps.tenancy.services import organization_create
    from audit_platform.principal import Principal

    org = organization_create(slug=f"bench-{uuid.uuid4().hex[:8]}", name="Bench Bank")
    system = demo_system_seed(organization=org, model_versions=versions, batches=0)
    deployment = system.deployments.get()
    actor = Principal.system(organization=org, name="bench")
    size = log_for(organization=org).size
    start = time.perf_counter()
    for i in range(entries - size):
        registry.prediction_batch_record(
            actor=actor,
            deployment=deployment,
            input_sha256=hashlib.sha256(b"in%d" % i).hexdigest(),
            output_sha256=hashlib.sha256(b"out%d" % i).hexdigest(),
            row_count=1000 + i,
            rows_root=hashlib.sha256(b"root%d" % i).hexdigest(),
        )
    size = log_for(organization=org).size
    print(
        f"seeded {size} ledger entries, {versions} model versions "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return org, system


def generate(org, **kwargs):
    """Runs one report job as the worker does; returns (report, seconds, html)."""
    from apps.reports import rendering, services
    from apps.reports.models import Report
    from audit_platform.principal import Principal

    captured: dict[str, str] = {}
    original = rendering.pdf_render

    def capture(*, html: str, **rest):
        captured["html"] = html
        return original(html=html, **rest)

    rendering.pdf_render = capture
    try:
        actor = Principal.system(organization=org, name="bench")
        # No broker: the job runs in-process on commit, as the embedded default does.
        start = time.perf_counter()
        report, _ = services.report_request(actor=actor, **kwargs)
        seconds = time.perf_counter() - start
    finally:
        rendering.pdf_render = original
    report = Report.objects.get(pk=report.pk)
    assert report.status == "succeeded", report.failure_reason
    return report, seconds, captured["html"]


def baseline(html: str, runs: int = 2) -> float:
    """The faster of ``runs`` renders of the same HTML by WeasyPrint alone."""
    from weasyprint import HTML

    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        HTML(string=html).write_pdf()
        best = min(best, time.perf_counter() - start)
    return best


def compare(name: str, ours: float, base: float, target: float, report) -> None:
    verdict = "OK" if ours <= target else "OVER TARGET"
    print(
        f"{name}: ours {ours:.2f} s ({report.page_count} pages, {report.size_bytes / 1e6:.2f} MB, "
        f"{report.cited_seqs} proofs) | baseline WeasyPrint same HTML {base:.2f} s | "
        f"ratio {ours / base:.2f}x | target <= {target:.0f} s: {verdict}"
    )


def _rss_kb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() // 1024


def sampled(work):
    """Runs ``work()`` and returns (its result, resident size before in KB, peak in KB)."""
    before = _rss_kb()
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.01):
            peak = max(peak, _rss_kb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = work()
    finally:
        done.set()
        sampler.join()
    return result, before, max(peak, _rss_kb())


def child_baseline(html_path: str) -> None:
    """In a fresh process: WeasyPrint alone renders the saved HTML (memory baseline)."""
    from weasyprint import HTML

    html = Path(html_path).read_text()
    _, before, peak = sampled(lambda: HTML(string=html).write_pdf())
    print(json.dumps({"growth_mb": (peak - before) / 1024}))


def child(org_slug: str, limit: int) -> None:
    """In a fresh process: audit-trail report of the first ``limit`` entries."""
    from apps.ledger.selectors import entries_filtered, log_for
    from apps.tenancy.models import Organization

    org = Organization.objects.get(slug=org_slug)
    log = log_for(organization=org)
    time_from = entries_filtered(log=log).first().time
    time_to = entries_filtered(log=log, start=limit).first().time
    import weasyprint  # noqa: F401  (imported before the baseline reading)

    # The process's high-water mark already includes start-up (imports of every
    # installed app), so the resident size is sampled during generation instead.
    (report, seconds, html), before, peak = sampled(
        lambda: generate(org, kind="audit_trail", time_from=time_from, time_to=time_to)
    )
    Path(os.environ["BENCH_HTML_OUT"]).write_text(html)
    print(
        json.dumps(
            {
                "entries": report.cited_seqs,
                "seconds": seconds,
                "growth_mb": (peak - before) / 1024,
                "before_mb": before / 1024,
                "pdf_mb": report.size_bytes / 1e6,
                "pages": report.page_count,
            }
        )
    )


def _last_json(command: list[str], env: dict[str, str]) -> dict:
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=50)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("ORG", "LIMIT"), help=argparse.SUPPRESS)
    parser.add_argument("--child-baseline", metavar="HTML", help=argparse.SUPPRESS)
    args = parser.parse_args()
    media = tempfile.mkdtemp(prefix="bench-reports-")
    if args.child_baseline:
        child_baseline(args.child_baseline)
        return
    if args.child:
        setup_django(os.environ["DATABASE_URL"], media=media, migrate=False)
        child(args.child[0], int(args.child[1]))
        return
    url, created = prepare_database()
    setup_django(url, media=media)
    org, system = seed(versions=args.versions, entries=args.entries)

    from django.utils import timezone

    from apps.ledger.selectors import entries_filtered, log_for

    generate(org, kind="model_card", model_version=system.models.get().versions.first())  # warm
    report, ours, html = generate(org, kind="annex_iv", system=system)
    compare(
        f"Annex IV ({args.versions} versions, {args.entries} entries)",
        ours,
        baseline(html),
        10,
        report,
    )

    first = entries_filtered(log=log_for(organization=org)).first().time
    report, ours, html = generate(org, kind="audit_trail", time_from=first, time_to=timezone.now())
    compare(f"Audit trail ({report.cited_seqs} entries)", ours, baseline(html), 30, report)

    html_out = os.path.join(media, "audit.html")
    env = {**os.environ, "DATABASE_URL": url, "BENCH_HTML_OUT": html_out}
    print(
        "memory (fresh process each; peak RSS growth during generation; baseline: "
        "WeasyPrint alone rendering the same HTML, also in a fresh process):"
    )
    for limit in (args.entries // 4, args.entries - 1):
        row = _last_json([sys.executable, __file__, "--child", org.slug, str(limit)], env)
        base = _last_json([sys.executable, __file__, "--child-baseline", html_out], env)
        print(
            f"  {row['entries']:>6} entries: {row['seconds']:.1f} s, "
            f"ours +{row['growth_mb']:.0f} MB | baseline +{base['growth_mb']:.0f} MB | "
            f"ratio {row['growth_mb'] / max(base['growth_mb'], 1):.2f}x | "
            f"PDF {row['pdf_mb']:.2f} MB, {row['pages']} pages"
        )
    if created and not args.keep:
        database_drop(BENCH_DB)


if __name__ == "__main__":
    main()
