"""Requesting, generating and failing reports. Every state change commits with its
ledger entry (``report.requested``, ``report.generated``, ``report.failed``).

A report is signed first, then its SHA-256 goes on the ledger: the digest on the
record is that of the exact file served, so ``POST /api/v1/reports/verify`` can
answer for any copy of it byte for byte.
"""

from __future__ import annotations

import io
import logging
import tempfile
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from apps.ledger import selectors as ledger_selectors
from apps.ledger.digests import stream_sha256
from apps.ledger.types import Actor, Receipt, Subject
from apps.registry.models import AISystem, ModelVersion
from apps.reports import events, kinds, rendering, signing
from apps.reports.models import Report
from apps.tasks import services as task_services
from apps.tenancy.records import record_event
from audit_platform.errors import Forbidden, InvalidInput, NotFound, RuleViolation
from audit_platform.principal import Principal
from audit_platform.roles import Capability

logger = logging.getLogger(__name__)

# Declarations of conformity and incident reports are statements of the provider:
# they need the compliance capability; every other kind may be produced by anyone
# who may put lifecycle events on the record.
KIND_CAPABILITY = {
    Report.Kind.ANNEX_IV: Capability.RECORD,
    Report.Kind.AUDIT_TRAIL: Capability.RECORD,
    Report.Kind.DECLARATION: Capability.COMPLY,
    Report.Kind.POST_MARKET: Capability.RECORD,
    Report.Kind.SERIOUS_INCIDENT: Capability.COMPLY,
    Report.Kind.MODEL_CARD: Capability.RECORD,
    # An explanation given to a person about a decision that affected them (Art. 86).
    Report.Kind.DECISION_EXPLANATION: Capability.COMPLY,
    Report.Kind.GPAI_TECHNICAL: Capability.RECORD,
    Report.Kind.GPAI_DOWNSTREAM: Capability.RECORD,
    # Published by the provider: a statement, like a declaration.
    Report.Kind.GPAI_TRAINING_SUMMARY: Capability.COMPLY,
}
SYSTEM_KINDS = {
    Report.Kind.GPAI_TECHNICAL,
    Report.Kind.GPAI_DOWNSTREAM,
    Report.Kind.GPAI_TRAINING_SUMMARY,
    Report.Kind.ANNEX_IV,
    Report.Kind.DECLARATION,
    Report.Kind.POST_MARKET,
    Report.Kind.SERIOUS_INCIDENT,
}
RANGE_KINDS = {Report.Kind.AUDIT_TRAIL, Report.Kind.POST_MARKET}
# Documents about a system that cover one model version: the one named
# (``model_version_id``), else the one serving.
VERSION_KINDS = {Report.Kind.ANNEX_IV, Report.Kind.DECLARATION, Report.Kind.POST_MARKET}
STAGES = ("initial", "follow_up")
# Annex V, point 8: who signs the declaration, in what function, and where.
SIGNATORY_FIELDS = ("signatory_name", "signatory_function", "place_of_issue")


def _actor(report: Report) -> Principal:
    return Principal.on_behalf_of(
        organization=report.organization, actor=Actor(**report.requested_by)
    )


def _check_range(time_from: datetime | None, time_to: datetime | None) -> tuple[datetime, datetime]:
    if time_from is None or time_to is None:
        raise InvalidInput(
            "This report covers a time range: give time_from and time_to.",
            fields={
                name: ["Required."]
                for name, value in (("time_from", time_from), ("time_to", time_to))
                if value is None
            },
        )
    if time_from >= time_to:
        raise InvalidInput(
            "The time range is empty: time_from must be before time_to.",
            fields={"time_to": ["Must be after time_from."]},
        )
    if time_from > timezone.now():
        raise InvalidInput(
            "The time range starts in the future: nothing can be on the record for it yet.",
            fields={"time_from": ["In the future."]},
        )
    return time_from, time_to


def report_request(
    *,
    actor: Principal,
    kind: str,
    system: AISystem | None = None,
    model_version: ModelVersion | None = None,
    time_from: datetime | None = None,
    time_to: datetime | None = None,
    stage: str | None = None,
    incident_id: uuid.UUID | None = None,
    signatory: dict[str, str] | None = None,
    prediction_batch: Any = None,
    row: int | None = None,
) -> tuple[Report, Receipt]:
    """Records the request and queues the rendering on the ``reports`` queue.

    ``system`` and ``model_version`` must already be the caller's organization's
    (the API looks them up in its scope, so another's reads as not found); a model
    version named for a document about a system must be one of that system's.
    ``incident_id`` (serious-incident reports) names the incident to report; it must be
    one of ``system``'s, else NotFound. Without it the report takes the latest.
    ``signatory`` (declarations of conformity): ``SIGNATORY_FIELDS``, all required.

    In-process (no broker) the report is rendered when the request commits: the
    report returned is then as it stands after that (succeeded or failed), not
    "queued".
    """
    kind = Report.Kind(kind)
    if kind == Report.Kind.DECISION_EXPLANATION or (prediction_batch, row) != (None, None):
        about = {"system": system, "model_version": model_version}
        return _decision_explanation_request(
            actor=actor, kind=kind, prediction_batch=prediction_batch, row=row, **about
        )
    system, subject = _report_about(
        actor=actor, kind=kind, system=system, model_version=model_version
    )
    params = _report_params(
        organization=actor.organization,
        kind=kind,
        system=system,
        time_from=time_from,
        time_to=time_to,
        stage=stage,
        incident_id=incident_id,
        signatory=signatory,
    )
    if model_version is not None and kind in VERSION_KINDS:
        params["model_version_id"] = str(model_version.pk)
    report, receipt = _report_create(
        actor=actor,
        kind=kind,
        subject=subject,
        system=system,
        model_version=model_version,
        params=params,
    )
    # Outside any outer transaction the commit above has run the callbacks: an
    # in-process rendering has finished, and the caller sees its real state.
    report.refresh_from_db()
    return report, receipt


def _decision_explanation_request(
    *,
    actor: Principal,
    kind: Report.Kind,
    system: AISystem | None,
    model_version: ModelVersion | None,
    prediction_batch: Any,
    row: int | None,
) -> tuple[Report, Receipt]:
    """A decision explanation (Art. 86) of ``row`` of ``prediction_batch``: refused
    with the reason, nothing written, unless the batch's system is a high-risk Annex III
    system other than point 2, the row exists and has its receipt, and its SHAP values
    can be computed. The explainability workers are asked for them when none are there,
    in the same transaction as the request, and the report is rendered once they are
    computed."""
    if kind != Report.Kind.DECISION_EXPLANATION:
        raise InvalidInput(
            "prediction_batch_id and row name the decision of a decision explanation only.",
            fields={"prediction_batch_id": ["Only for kind decision_explanation."]},
        )
    _decision_checks(
        actor=actor,
        kind=kind,
        named=(system, model_version),
        prediction_batch=prediction_batch,
        row=row,
    )
    system = prediction_batch.deployment.system
    with transaction.atomic():
        explanation = _explanation_for_decision(actor=actor, prediction_batch=prediction_batch)
        waiting = explanation.status != "completed"
        report, receipt = _report_create(
            actor=actor,
            kind=kind,
            subject=Subject(kind="prediction_batch", id=str(prediction_batch.pk)),
            system=system,
            model_version=prediction_batch.model_version,
            params={
                "prediction_batch_id": str(prediction_batch.pk),
                "row": row,
                "explanation_id": str(explanation.pk),
            },
            waits_for=(
                f"waiting for the SHAP values of prediction batch {prediction_batch.pk} "
                f"(explanation {explanation.pk}); queued when they are computed"
                if waiting
                else ""
            ),
        )
    report.refresh_from_db()
    return report, receipt


def _explanation_for_decision(*, actor: Principal, prediction_batch: Any) -> Any:
    """The batch's SHAP explanation, asked of the explainability workers when there is
    none or the last one failed. Its row stays locked until the request commits: an
    explanation completing meanwhile calls the hook only once the report exists, so the
    report is queued exactly once."""
    from apps.explainability import services as explainability
    from apps.reports.kinds.decision_explanation import explanation_of

    explanation = explanation_of(prediction_batch, lock=True)
    if explanation is None or explanation.status == "failed":
        explanation, _ = explainability.explanation_request(
            actor=actor,
            model_version=prediction_batch.model_version,
            prediction_batch=prediction_batch,
        )
    return explanation


def decision_explanations_release(*, explanation_id: Any) -> None:
    """Queues the decision explanations waiting for this SHAP explanation, which has
    just completed or finally failed (explainability's extension point calls it after
    the commit). A failed explanation fails the report with its reason."""
    waiting = Report.objects.filter(
        kind=Report.Kind.DECISION_EXPLANATION,
        status=Report.Status.QUEUED,
        params__explanation_id=str(explanation_id),
    ).values_list("pk", flat=True)
    for report_id in list(waiting):
        _enqueue(report_id)


def _decision_checks(
    *,
    actor: Principal,
    kind: Report.Kind,
    named: tuple[Any, Any],
    prediction_batch: Any,
    row: int | None,
) -> None:
    """Refuses, with the reason, a decision explanation that is not allowed (the
    caller's role), not asked properly, or not backed by the record (Art. 86(1))."""
    from apps.reports.kinds.decision_explanation import refusal

    needed = KIND_CAPABILITY[kind]
    if not actor.can(needed):
        raise Forbidden(f"The role '{actor.role}' may not request this report (needs '{needed}').")
    if prediction_batch is None or row is None or any(n is not None for n in named):
        raise InvalidInput(
            "A decision explanation is about one decision: give prediction_batch_id and row "
            "(the batch names its system and model version).",
            fields={"prediction_batch_id": ["Required."], "row": ["Required."]},
        )
    if not 0 <= row < (prediction_batch.row_count or 0):
        raise InvalidInput(
            f"Row {row} is not in prediction batch {prediction_batch.pk}; its rows are "
            f"0..{(prediction_batch.row_count or 0) - 1}.",
            fields={"row": ["Out of range."]},
        )
    reason = refusal(system=prediction_batch.deployment.system)
    if reason is not None:
        raise RuleViolation(reason)
    if prediction_batch.rows_artifact_id is None or prediction_batch.input_artifact_id is None:
        raise RuleViolation(
            f"Prediction batch {prediction_batch.pk} has no rows and input files on the record: "
            "its decisions cannot be proven or explained (upload them with "
            f"POST /api/v1/prediction-batches/{prediction_batch.pk}/files)."
        )


def _report_create(
    *,
    actor: Principal,
    kind: Report.Kind,
    subject: Subject,
    system: AISystem | None,
    model_version: ModelVersion | None,
    params: dict[str, Any],
    waits_for: str = "",
) -> tuple[Report, Receipt]:
    """The report, its task record and ``report.requested``, in one transaction; the
    rendering is queued when it commits, unless the report ``waits_for`` something
    (then whoever finishes that queues it, and the task record says what it waits for)."""
    organization = actor.organization
    with transaction.atomic():
        task = task_services.task_record_create(
            organization=organization,
            kind=f"report.{kind.value}",
            subject_kind=subject.kind,
            subject_id=subject.id,
            message=waits_for,
        )
        report = Report.objects.create(
            organization=organization,
            kind=kind,
            subject_kind=subject.kind,
            subject_id=subject.id,
            system=system,
            model_version=model_version,
            params=params,
            task=task,
            requested_by=actor.ledger_actor.as_json(),
        )
        receipt = record_event(
            actor=actor,
            event=events.REPORT_REQUESTED,
            id=report.pk,
            data={"kind": kind.value, "about": subject.as_json(), **params},
        )
        Report.objects.filter(pk=report.pk).update(requested_seq=receipt.seq)
        report.requested_seq = receipt.seq
        if not waits_for:
            transaction.on_commit(lambda: _enqueue(report.pk))
    return report, receipt


def _report_about(
    *,
    actor: Principal,
    kind: Report.Kind,
    system: AISystem | None,
    model_version: ModelVersion | None,
) -> tuple[AISystem | None, Subject]:
    """The system a report is about and its subject, once the actor may request the
    kind and has named what the kind is about (a model card's system is its model's)."""
    needed = KIND_CAPABILITY[kind]
    if not actor.can(needed):
        raise Forbidden(f"The role '{actor.role}' may not request this report (needs '{needed}').")
    if kind in SYSTEM_KINDS and system is None:
        raise InvalidInput(
            "This report is about an AI system: give system_id.",
            fields={"system_id": ["Required."]},
        )
    if kind == Report.Kind.MODEL_CARD:
        if model_version is None:
            raise InvalidInput(
                "A model card is about a model version: give model_version_id.",
                fields={"model_version_id": ["Required."]},
            )
        system = model_version.model.system
        return system, Subject(kind="model_version", id=str(model_version.pk))
    if model_version is not None:
        if kind not in VERSION_KINDS:
            raise InvalidInput(
                f"{kind.label} covers no single model version: leave out model_version_id.",
                fields={"model_version_id": ["Not for this kind."]},
            )
        if system is None or model_version.model.system_id != system.pk:
            raise NotFound(
                f"No model version {model_version.pk} of AI system "
                f"{system.pk if system else '(none given)'}.",
                fields={"model_version_id": ["Not a model version of this AI system."]},
            )
    if system is not None:
        return system, Subject(kind="ai_system", id=str(system.pk))
    return system, Subject(kind="organization", id=actor.organization.slug)


def _report_params(
    *,
    organization: Any,
    kind: Report.Kind,
    system: AISystem | None,
    time_from: datetime | None,
    time_to: datetime | None,
    stage: str | None,
    incident_id: uuid.UUID | None,
    signatory: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The kind's parameters (time range, stage, incident, signatory), checked: a range
    must hold ledger entries for an audit trail; only a serious-incident report names
    an incident or a stage; only a declaration of conformity names its signatory."""
    params: dict[str, Any] = _signatory(kind=kind, signatory=signatory or {})
    if kind in RANGE_KINDS:
        time_from, time_to = _check_range(time_from, time_to)
        params.update(time_from=time_from.isoformat(), time_to=time_to.isoformat())
    if kind == Report.Kind.AUDIT_TRAIL:
        log = ledger_selectors.log_for(organization=organization)
        if not kinds.audit_entries(
            log=log, system=system, time_from=time_from, time_to=time_to
        ).exists():
            raise InvalidInput(
                "No ledger entry falls in this range: there is nothing to report.",
                fields={"time_from": ["No entries in [time_from, time_to)."]},
            )
    if kind == Report.Kind.SERIOUS_INCIDENT:
        stage = stage or "initial"
        if stage not in STAGES:
            raise InvalidInput(
                "stage must be initial or follow_up.", fields={"stage": ["Invalid."]}
            )
        params["stage"] = stage
        if incident_id is not None:
            params["incident_id"] = _incident_of(system=system, incident_id=incident_id)
    elif incident_id is not None:
        raise InvalidInput(
            "incident_id names the incident of a serious-incident report only.",
            fields={"incident_id": ["Only for kind serious_incident."]},
        )
    return params


def _signatory(*, kind: Report.Kind, signatory: dict[str, str]) -> dict[str, str]:
    """Annex V, point 8: the name and function of who signs, and the place of issue."""
    given = {k: v.strip() for k, v in signatory.items() if v and v.strip()}
    if kind != Report.Kind.DECLARATION:
        if given:
            raise InvalidInput(
                "Only a declaration of conformity names a signatory and a place of issue.",
                fields={k: ["Only for kind declaration_of_conformity."] for k in given},
            )
        return {}
    absent = [name for name in SIGNATORY_FIELDS if name not in given]
    if absent:
        raise InvalidInput(
            "A declaration of conformity states where it is issued and who signs it, in "
            f"what function (Annex V, point 8): give {', '.join(absent)}.",
            fields={name: ["Required."] for name in absent},
        )
    return {name: given[name] for name in SIGNATORY_FIELDS}


def _incident_of(*, system: AISystem, incident_id: uuid.UUID) -> str:
    """The id of ``system``'s incident ``incident_id``; another system's, another
    organization's or an unknown one reads as not found."""
    from apps.compliance import selectors as compliance

    incident = compliance.incident_of_system(system=system, incident_id=incident_id)
    if incident is None:
        raise NotFound(
            f"No incident {incident_id} of AI system {system.pk}.",
            fields={"incident_id": ["Not an incident of this AI system."]},
        )
    return str(incident.pk)


def _enqueue(report_id: int) -> None:
    from django.conf import settings

    from apps.reports.tasks import report_generate_task

    if settings.CELERY_TASK_ALWAYS_EAGER:
        # In-process (no broker): ``delay`` would still open a producer on the default
        # broker and cache it in the app's pool; ``apply`` runs the task and nothing else.
        report_generate_task.apply(args=[report_id])
        return
    report_generate_task.delay(report_id)


def report_claim(*, report_id: int) -> bool:
    """Queued (or redelivered while running) → running. False once it has finished,
    so a task delivered twice renders once. The job claims the task record with it."""
    claimed = Report.objects.filter(
        pk=report_id, status__in=[Report.Status.QUEUED, Report.Status.RUNNING]
    ).update(status=Report.Status.RUNNING, attempts=F("attempts") + 1)
    return claimed == 1


def _progress(report: Report, percent: int, message: str) -> None:
    if report.task_id:
        task_services.task_record_progress(task_id=report.task_id, percent=percent, message=message)


def _proof_files(*, log: Any, checkpoint: Any, seqs: set[int]) -> list[rendering.EmbeddedFile]:
    if len(seqs) <= kinds.PROOFS_AS_FILES_MAX:
        return [
            rendering.EmbeddedFile(
                name=f"proof-{seq}.tlog-proof",
                content=text.encode("utf-8"),
                description=f"C2SP tlog-proof of ledger entry {seq}",
                relationship="Supplement",
            )
            for seq, text in ledger_selectors.tlog_proofs(log=log, checkpoint=checkpoint, seqs=seqs)
        ]
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for seq, text in ledger_selectors.tlog_proofs(log=log, checkpoint=checkpoint, seqs=seqs):
            archive.writestr(f"proof-{seq}.tlog-proof", text)
    return [
        rendering.EmbeddedFile(
            name="tlog-proofs.zip",
            content=sink.getvalue(),
            description=f"C2SP tlog-proofs of the {len(seqs)} cited ledger entries",
            relationship="Supplement",
        )
    ]


@dataclass(frozen=True)
class _Rendered:
    """What a report is rendered from: its kind's document, the log, the checkpoint
    that covers everything cited, the log's verifier keys and the cited entries."""

    report: Report
    document: kinds.Document
    log: Any
    checkpoint: Any
    vkeys: list[str]
    cited: set[int]


def report_render(*, report: Report, output: BinaryIO) -> dict[str, Any]:
    """Gathers, renders and signs into ``output``; returns facts for the ledger."""
    organization = report.organization
    log = ledger_selectors.log_for(organization=organization)
    # Everything cited is covered by this checkpoint: it is read before gathering.
    checkpoint = ledger_selectors.checkpoint_latest(log=log)
    cite = kinds.Citations(log)
    _progress(report, 10, "gathering the record")
    document = kinds.build(report=report, cite=cite)
    cited = {seq for seq in cite.cited if seq < checkpoint.size}
    verification = None
    if report.kind == Report.Kind.AUDIT_TRAIL:
        from apps.ledger.stored_log_check import log_verify

        _progress(report, 30, "verifying the log")
        verification = log_verify(log=log).summary()
    signer = signing.document_signer_for(organization=organization)
    rendered = _Rendered(
        report=report,
        document=document,
        log=log,
        checkpoint=checkpoint,
        vkeys=ledger_selectors.verifier_keys(log=log),
        cited=cited,
    )
    generated_at = timezone.now()
    _progress(report, 45, "rendering")
    html = render_to_string(
        document.template,
        _template_context(
            rendered, verification=verification, signer=signer, generated_at=generated_at
        ),
    )
    _progress(report, 60, "computing tlog-proofs")
    files = [
        *_attachments(rendered),
        *rendering.self_contained_files(signing_certificate_pem=signer.certificate_pem),
    ]
    _progress(report, 75, "writing the PDF/A-3 file")
    with tempfile.TemporaryFile() as unsigned:
        pages = rendering.pdf_render(html=html, attachments=files, target=unsigned)
        del files, html
        _progress(report, 90, "signing")
        signing.pdf_sign(
            source=unsigned,
            output=output,
            signer=signer,
            reason=f"{report.get_kind_display()} generated from the ledger of {log.origin}",
            location=log.origin,
        )
    return {
        "pages": pages,
        "cited": len(cited),
        "checkpoint_size": checkpoint.size,
        "signer_sha256": signer.fingerprint_sha256,
        "missing": len(document.missing),
    }


def _template_context(
    rendered: _Rendered,
    *,
    verification: str | None,
    signer: signing.DocumentSigner,
    generated_at: datetime,
) -> dict[str, Any]:
    """What every report's template is given besides its kind's own context."""
    report, document, log, cited = (
        rendered.report,
        rendered.document,
        rendered.log,
        rendered.cited,
    )
    return {
        **document.context,
        "title": document.title,
        "report": report,
        "kind_label": report.get_kind_display(),
        "organization": report.organization,
        "origin": log.origin,
        "checkpoint": kinds.checkpoint_facts(rendered.checkpoint),
        "vkeys": rendered.vkeys,
        "verification": verification,
        "generated_at": generated_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "signer": {
            "fingerprint": signer.fingerprint_sha256,
            "subject": signer.subject,
            "self_signed": signer.self_signed,
        },
        "timestamped": signing.timestamper() is not None,
        "cited_entries": (kinds.cited_entries(log=log, seqs=cited) if document.cited_table else []),
        "cited_count": len(cited),
        "proofs_zipped": len(cited) > kinds.PROOFS_AS_FILES_MAX,
        "requested_by": report.requested_by,
        "requested_by_label": kinds.People(report.organization).actor(
            report.requested_by.get("kind", ""),
            report.requested_by.get("id", ""),
            report.requested_by.get("name", ""),
        ),
    }


def _attachments(rendered: _Rendered) -> list[rendering.EmbeddedFile]:
    """The files a report carries: its records as JSON, the checkpoint and keys to
    check it with, the kind's own attachments and the tlog-proofs of what it cites."""
    report, log, checkpoint = rendered.report, rendered.log, rendered.checkpoint
    return [
        rendering.EmbeddedFile(
            name="records.json",
            content=kinds.records_json(
                {"report": {"id": str(report.pk), "kind": report.kind}, **rendered.document.records}
            ),
            description="The records this report was generated from (JSON)",
        ),
        rendering.EmbeddedFile(
            name="checkpoint.note",
            content=checkpoint.note.encode("utf-8"),
            description=f"Signed checkpoint of {log.origin} at size {checkpoint.size}",
            relationship="Supplement",
        ),
        rendering.EmbeddedFile(
            name="keys.vkey",
            content=("\n".join(rendered.vkeys) + "\n").encode("ascii"),
            description="Verifier keys of the ledger",
            relationship="Supplement",
        ),
        *(
            rendering.EmbeddedFile(name=n, content=c, description=d)
            for n, c, d in rendered.document.attachments
        ),
        *_proof_files(log=log, checkpoint=checkpoint, seqs=rendered.cited),
    ]


def report_generate(*, report_id: int) -> Report | None:
    """Renders a claimed report and records it. Returns None when another run of the
    same task recorded it first (nothing is written twice)."""
    report = Report.objects.select_related("organization", "system").get(pk=report_id)
    if report.status != Report.Status.RUNNING:
        return None
    with tempfile.TemporaryFile() as signed:
        facts = report_render(report=report, output=signed)
        digest, size = stream_sha256(signed, rewind=True)
        return _report_record(report=report, signed=signed, digest=digest, size=size, facts=facts)


def _report_record(
    *, report: Report, signed: BinaryIO, digest: str, size: int, facts: dict[str, Any]
) -> Report | None:
    """Stores the signed file and, in one transaction, marks the report generated (and
    its task record finished) and appends ``report.generated`` with the file's digest."""
    name = f"{report.organization.slug}/{report.pk}-{digest[:16]}.pdf"
    stored = File(signed, name=name)
    with transaction.atomic():
        now = timezone.now()
        report.pdf.save(name, stored, save=False)
        try:
            won = Report.objects.filter(pk=report.pk, status=Report.Status.RUNNING).update(
                status=Report.Status.SUCCEEDED,
                pdf=report.pdf.name,
                sha256=digest,
                size_bytes=size,
                page_count=facts["pages"],
                cited_seqs=facts["cited"],
                checkpoint_size=facts["checkpoint_size"],
                generated_at=now,
                failure_reason="",
            )
            if not won:
                transaction.set_rollback(True)
                report.pdf.storage.delete(report.pdf.name)
                return None
            receipt = record_event(
                actor=_actor(report),
                event=events.REPORT_GENERATED,
                id=report.pk,
                data={
                    "sha256": digest,
                    "size_bytes": size,
                    "kind": report.kind,
                    "about": {"kind": report.subject_kind, "id": report.subject_id},
                    "cited_seqs": facts["cited"],
                    "checkpoint_size": facts["checkpoint_size"],
                    "pages": facts["pages"],
                    "signer_sha256": facts["signer_sha256"],
                    "requested": report.requested_seq,
                },
            )
            Report.objects.filter(pk=report.pk).update(ledger_seq=receipt.seq)
            if report.task_id:
                task_services.task_record_finish(
                    task_id=report.task_id,
                    message=f"{facts['pages']} pages, sha256 {digest}",
                    result_links={
                        "report": f"/api/v1/reports/{report.pk}",
                        "pdf": f"/api/v1/reports/{report.pk}/pdf",
                    },
                )
        except BaseException:
            report.pdf.storage.delete(report.pdf.name)
            raise
    report.refresh_from_db()
    return report


def report_fail(*, report_id: int, reason: str) -> Receipt | None:
    """Marks a report failed, with its reason and no PDF, and records that. The job
    that calls it fails the task record in the same transaction (apps/tasks/jobs.py)."""
    reason = reason[:2000]
    with transaction.atomic():
        report = Report.objects.select_related("organization").get(pk=report_id)
        changed = Report.objects.filter(
            pk=report_id, status__in=[Report.Status.QUEUED, Report.Status.RUNNING]
        ).update(status=Report.Status.FAILED, failure_reason=reason, pdf="", sha256="")
        if not changed:
            return None
        receipt = record_event(
            actor=_actor(report),
            event=events.REPORT_FAILED,
            id=report.pk,
            data={"kind": str(report.kind), "reason": reason},
        )
    return receipt
