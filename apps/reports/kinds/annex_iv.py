"""Technical documentation (Annex IV): the system's lifecycle from the registry, its
compliance record, its declaration of conformity, and what Annex IV still lacks."""

from __future__ import annotations

from typing import Any

from apps.compliance import rules
from apps.compliance import selectors as compliance_selectors
from apps.explainability import selectors as explainability
from apps.monitoring import selectors as monitoring
from apps.registry.models import AISystem
from apps.reports import charts
from apps.reports.kinds.common import (
    Citations,
    Gathered,
    People,
    ReportKind,
    system_facts,
    versions_covered,
    when,
    words,
)
from apps.reports.kinds.compliance_record import compliance_record, gap_line, open_incidents
from apps.reports.kinds.lifecycle import lifecycle, status_history
from apps.reports.models import Report

# Annex IV topics the report would otherwise call missing on its own, and the
# obligations of the compliance checklist that answer for them.
TOPIC_OBLIGATIONS = {
    "oversight": {"art_14", "art_26", "art_26_2"},
    "risks": {"art_9"},
    "datasheets": {"art_10"},
    "post_market_plan": {"art_72"},
}
TOPIC_MISSING = {
    "datasheets": "Art. 10: no dataset version with its datasheet is on the record.",
    "oversight": "Annex IV 3 / Art. 14: no human-oversight measures are on the record yet.",
    "risks": "Annex IV 5 / Art. 9: no risk management system (risk register) is on the record yet.",
    "post_market_plan": "Annex IV 9 / Art. 72: no post-market monitoring plan is on the "
    "record yet.",
}


# Obligations this document itself fulfils (technical documentation, Art. 11, Annex IV).
OWN_OBLIGATIONS = {"art_11"}
# Annex IV points stated by a document the provider attaches as evidence of a checklist
# item: the key the report shows it under, the item, and how to record it when missing.
ATTACHED_POINTS = {
    "third_party_components": (
        "2(a)",
        rules.ANNEX_IV_THIRD_PARTY_COMPONENTS,
        "the recourse to pre-trained systems or tools provided by third parties and how "
        "they were used, integrated or modified (or the statement that none were used)",
    ),
    "design_specifications": (
        "2(b)",
        rules.ANNEX_IV_DESIGN_SPECIFICATIONS,
        "the general logic, key design choices with their rationale and assumptions, what "
        "the system optimises for, its expected output and the trade-offs made",
    ),
    "predetermined_changes": (
        "2(f)",
        rules.ANNEX_IV_PREDETERMINED_CHANGES,
        "the pre-determined changes to the system and its performance and the solutions "
        "for continuous compliance (or the statement that none are pre-determined)",
    ),
    "cybersecurity": ("2(h)", "art_15", "the cybersecurity measures put in place"),
}


def _covered(report: Report, cite: Citations) -> list[dict[str, Any]]:
    """The versions this documentation covers: the one named, or the ones serving."""
    return [
        {
            "label": str(v),
            "sha256": v.artifact_sha256,
            "how": "named in the request" if report.model_version_id else "serving now",
            "seq": cite.first("model_version", v.pk, "model_version.registered"),
        }
        for v in versions_covered(report)
    ]


def _performance_chart(versions: list[dict[str, Any]]) -> str:
    """Every metric registered with a version, from zero, with its interval where
    recorded (none is left out: the table of section 2(g) lists the same)."""
    names: list[str] = []
    for v in versions:
        for name in v["numeric"]:
            if name not in names:
                names.append(name)
    if not names or not versions:
        return ""
    return charts.line_chart(
        {words(n): [v["numeric"].get(n) for v in versions] for n in names},
        [f"{v['model']}@{v['version']}" for v in versions],
        title="Performance by model version (as registered; axis from zero)",
        intervals={words(n): [v["intervals"].get(n) for v in versions] for n in names},
    )


def _declaration_on_record(system: AISystem, cite: Citations) -> dict[str, Any] | None:
    report = (
        Report.objects.filter(
            system=system, kind=Report.Kind.DECLARATION, status=Report.Status.SUCCEEDED
        )
        .order_by("-generated_at")
        .first()
    )
    if report is None:
        return None
    return {
        "id": str(report.pk),
        "sha256": report.sha256,
        "generated_at": when(report.generated_at),
        "seq": cite.add(report.ledger_seq),
    }


def _missing_point_2(life: dict[str, Any], compliance: dict[str, Any]) -> list[str]:
    """What Annex IV point 2(a)-(h) lacks, point by point, from what the record holds."""
    missing: list[str] = []
    if not life["runs"]:
        missing.append(
            "Annex IV 2(a): no training run (methods and steps of development) is on the record."
        )
    missing += _missing_attached(life, "third_party_components")
    if not life["versions"]:
        missing.append("Annex IV 2(b): no model version (design specifications) is registered.")
    missing += _missing_attached(life, "design_specifications")
    if not any(r["hardware"] or r["energy_joules"] is not None for r in life["runs"]):
        missing.append(
            "Annex IV 2(c): no computational resources (hardware, energy) used to train the "
            "system are on the record."
        )
    if not life["datasets"]:
        missing.append("Annex IV 2(d): no dataset (data requirements, datasheets) is registered.")
    if not life["interpretation"]:
        missing.append(
            "Annex IV 2(e) / Art. 13(3)(d): no technical measure to interpret the outputs "
            "(an explanation of a covered version) is on the record."
        )
    missing += _missing_attached(life, "predetermined_changes")
    if not life["test_logs"]:
        missing.append(
            "Annex IV 2(g): no validation or test dataset version, so no dated test log."
        )
    for a in compliance["assessments"]:
        if not a["signatures"]:
            missing.append(
                f"Annex IV 2(g): the test report of assessment #{a['id']} is not signed by a "
                f"responsible person (/api/v1/assessments/{a['id']}/sign)."
            )
    missing += _missing_attached(life, "cybersecurity")
    return missing


def _missing_attached(life: dict[str, Any], key: str) -> list[str]:
    """A point stated by an attached document, when none is attached: what it needs and
    how to record it."""
    if life[key]:
        return []
    point, _obligation, what = ATTACHED_POINTS[key]
    item = "Art. 15" if key == "cybersecurity" else f"Art. 11(1), Annex IV, point {point}"
    # The checklist item is named by its article (the page reads in words); its code is
    # beside it in the system's checklist.
    return [
        f"Annex IV {point}: no document stating {what} is on the record (attach it as "
        f"evidence of the checklist item {item}: POST /api/v1/obligation-evidence/)."
    ]


def _missing(life: dict[str, Any], compliance: dict[str, Any], declaration: Any) -> list[str]:
    """The closing list: what Annex IV's own sections lack, then the compliance app's
    gap analysis. A topic the gap analysis answers for (risk register, oversight,
    datasheets, post-market plan) is not guessed at here as well."""
    missing: list[str] = []
    missing += _missing_point_2(life, compliance)
    if not life["deployments"]:
        missing.append("Annex IV 3: no deployment is recorded (functioning and control).")
    answered = {gap["code"] for gap in compliance["gaps"]}
    empty = {
        "datasheets": not any(d["versions"] for d in life["datasets"]),
        "oversight": not compliance["oversight"]["any"],
        "risks": not compliance["risks"],
        "post_market_plan": not compliance["post_market_plan"],
    }
    for topic, text in TOPIC_MISSING.items():
        if empty[topic] and not (TOPIC_OBLIGATIONS[topic] & answered):
            missing.append(text)
    # The compliance app records no harmonised standards: always stated.
    missing.append(
        "Annex IV 7: no harmonised standards or other solutions adopted are on the record yet."
    )
    classification = compliance["classification"]
    if declaration is None and (
        classification is None or classification["category"] == "high_risk"
    ):
        missing.append("Annex IV 8: no EU declaration of conformity has been generated yet.")
    if not any(v["numeric"] for v in life["versions"]) and not compliance["assessments"]:
        missing.append("Annex IV 4: no performance metrics are recorded for any model version.")
    # Items listed point by point above are not repeated from the gap analysis.
    attached = {obligation for _, obligation, _ in ATTACHED_POINTS.values()} - {"art_15"}
    missing += [
        f"Compliance gap analysis: {gap_line(gap)}"
        for gap in compliance["gaps"]
        if gap["code"] not in attached
    ]
    return missing


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60:02d} min"


def _signatures(assessments: list[dict[str, Any]], people: People, cite: Citations) -> None:
    """Each assessment's test report with the signatures on it (Annex IV 2(g))."""
    by_id = {
        str(a.pk): a
        for a in compliance_selectors.assessments_completed().filter(
            pk__in=[row["id"] for row in assessments]
        )
    }
    for row in assessments:
        row["signatures"] = [
            {
                "by": people.user(sig.signed_by_id),
                "function": sig.function,
                "at": when(sig.signed_at),
                "sha256": sig.report_sha256,
                "seq": cite.add(sig.ledger_seq),
            }
            for sig in compliance_selectors.assessment_signatures(assessment=by_id[row["id"]])
        ]


def _interpretation(report: Report, cite: Citations) -> list[dict[str, Any]]:
    """Explanations of the covered versions: the technical measure that helps deployers
    interpret the outputs (Annex IV 2(e), Art. 13(3)(d))."""
    rows = []
    for version in versions_covered(report):
        explanation = explainability.explanation_latest_completed(model_version=version)
        if explanation is not None:
            rows.append(
                {
                    "version": str(version),
                    "what": f"SHAP explanation #{explanation.pk}",
                    "seq": cite.first("explanation", explanation.pk, "explanation.completed"),
                }
            )
    return rows


def _dual_verification(system: AISystem, cite: Citations) -> dict[str, Any] | None:
    """Art. 14(5) for a remote biometric identification system: how many persons confirm
    an identification, under which recorded setting, and what the log holds."""
    if not compliance_selectors.is_remote_biometric_identification(system=system):
        return None
    required, setting = compliance_selectors.verifications_required(system=system)
    uses = list(compliance_selectors.biometric_uses_of_system(system=system))
    return {
        "required": required,
        "exception": (
            {
                "version": setting.version,
                "area": setting.area,
                "legal_basis": setting.legal_basis,
                "seq": cite.add(setting.ledger_seq),
            }
            if setting is not None
            else None
        ),
        "uses": len(uses),
        "acted_on": sum(1 for u in uses for m in u.matches.all() if m.status == "acted_on"),
    }


def _point_2_facts(
    report: Report,
    life: dict[str, Any],
    compliance: dict[str, Any],
    people: People,
    cite: Citations,
) -> None:
    """Adds what Annex IV point 2 states beyond the lifecycle: run durations (2(c)),
    interpretation measures (2(e)), signed test reports (2(g)), and the documents the
    provider attached for third-party and pre-trained components (2(a)), design
    specifications (2(b)), pre-determined changes (2(f)) and cybersecurity (2(h))."""
    for run in life["runs"]:
        run["duration"] = _duration(run["duration_seconds"])
    _signatures(compliance["assessments"], people, cite)
    life["interpretation"] = _interpretation(report, cite)
    for key, (_point, obligation, _what) in ATTACHED_POINTS.items():
        life[key] = [
            {
                "description": e.description,
                "uri": e.uri,
                "sha256": e.sha256,
                "at": when(e.created_at),
                "seq": cite.add(e.ledger_seq or None),
            }
            for e in compliance_selectors.obligation_evidence_of_system(
                system=report.system, obligation=obligation
            )
        ]


def _records(
    life: dict[str, Any], compliance: dict[str, Any], context: dict[str, Any]
) -> dict[str, Any]:
    """The records attached as JSON, named by what they are."""
    return {
        "system": context["system"],
        "datasets": life["datasets"],
        "training_runs": life["runs"],
        "model_versions": life["versions"],
        "deployments": life["deployments"],
        "deployment_events": life["events"],
        "prediction_batches": life["batches"],
        "declaration_of_conformity": context["declaration"],
        "classification": compliance["classification"],
        "risk_register": compliance["risks"],
        "human_oversight": compliance["oversight"],
        "assessments": compliance["assessments"],
        **{f"{key}_measures": life[key] for key in ("interpretation", "cybersecurity")},
        "third_party_components": life["third_party_components"],
        "design_specifications": life["design_specifications"],
        "predetermined_changes": life["predetermined_changes"],
        "post_market_monitoring_plan": compliance["post_market_plan"],
        "compliance_gaps": compliance["gaps"],
        "versions_covered": context["covered"],
        "status_history": context["status_history"],
        "open_serious_incidents": context["incidents"],
    }


def gather(report: Report, cite: Citations) -> Gathered:
    system = report.system
    assert system is not None
    facts = system_facts(system, cite)
    life = lifecycle(system, cite)
    people = People(report.organization)
    declaration = _declaration_on_record(system, cite)
    compliance = compliance_record(system, cite)
    _point_2_facts(report, life, compliance, people, cite)
    # The plan generated from each deployment's monitoring policy (Art. 72(3)).
    compliance["post_market_plan"] += [
        {
            "description": p["text"],
            "uri": f"monitoring policy {p['policy_id']} rev. {p['revision']}",
            "sha256": "—",
            "at": "—",
            "seq": cite.add(p["seq"]),
        }
        for p in monitoring.monitoring_plans(system=system)
    ]
    # This document is the technical documentation of Art. 11: its own obligation is
    # not listed as missing from it.
    compliance["gaps"] = [gap for gap in compliance["gaps"] if gap["code"] not in OWN_OBLIGATIONS]
    context = {
        "annex_iv_2": rules.ANNEX_IV_POINT_2,
        "dual_verification": _dual_verification(system, cite),
        "system": facts,
        "covered": _covered(report, cite),
        "status_history": status_history(system, cite, people),
        "incidents": open_incidents(system, cite),
        **life,
        "declaration": declaration,
        "performance_chart": _performance_chart(life["versions"]),
        "compliance": compliance,
        "missing": _missing(life, compliance, declaration),
    }
    records = _records(life, compliance, context)
    return Gathered(
        context=context,
        records=records,
        about={"system": system.name},
        missing=context["missing"],
    )


ANNEX_IV = ReportKind(
    key=Report.Kind.ANNEX_IV,
    title="Technical documentation (Annex IV): {system}",
    template="reports/annex_iv.html",
    sections=(
        "1. General description of the AI system",
        "2. Detailed description of the elements and of the development process",
        "3. Monitoring, functioning and control",
        "4. Appropriateness of the performance metrics",
        "5. Risk management system (Art. 9)",
        "6. Relevant changes made through the lifecycle",
        "7. Harmonised standards applied or other solutions adopted",
        "8. Copy of the EU declaration of conformity",
        "9. Post-market monitoring plan (Art. 72)",
    ),
    gather=gather,
    cites=frozenset(
        {
            "ai_system",
            "dataset",
            "dataset_version",
            "training_run",
            "model",
            "model_version",
            "deployment",
            "prediction_batch",
            "report",
            "assessment",
            "risk",
            "approval_request",
            "monitoring_policy",
            "incident",
            "explanation",
        }
    ),
)
