"""A demo AI system with a full lifecycle on the record, made through the registry's
services: what the tests and the benchmark render reports for."""

from __future__ import annotations

from typing import Any

from apps.compliance import services as compliance
from apps.ledger.digests import text_sha256
from apps.registry import services as registry
from apps.registry.models import AISystem, DatasetVersion, Model, ModelVersion
from audit_platform.principal import Principal

PROVISIONAL_ANSWERS = {
    "prohibited_practices": [],
    "annex_i_safety_component": False,
    "annex_iii_area": "none",
    "interacts_with_persons": False,
    "generates_synthetic_content": False,
    "emotion_recognition_or_biometric_categorisation": False,
    "deep_fake_or_public_interest_text": False,
    "general_purpose_ai_model": False,
}

DATASHEET = {
    "design_choices": "Applicants of 2024-2025, one row per application.",
    "collection_process": "Exported from the loan origination system.",
    "data_origin": "Internal CRM",
    "original_purpose": "Loan servicing",
    "preparation_steps": {"cleaning": "Dropped duplicates", "labelling": "Default in 12 months"},
    "assumptions": "Past repayment predicts future repayment.",
    "suitability": "Covers all regions where the product is sold.",
    "bias_examination": "Approval rates compared by age band and sex.",
    "bias_mitigation": "Reweighing of under-represented age bands.",
    "data_gaps": "Few applicants over 75.",
}


def demo_system_seed(
    *,
    organization: Any,
    name: str = "Credit scoring",
    model_versions: int = 3,
    batches: int = 4,
    classify: bool = True,
) -> AISystem:
    """A system with train/test data, runs, ``model_versions`` versions, a production
    deployment (activated, re-activated and rolled back) and ``batches`` batches.

    Unclassified systems serve nothing by default, so the seed records a first,
    provisional classification (no Annex III area answered yet) before it serves; with
    ``classify=False`` the system stays unclassified and its deployment never serves
    (and has no batches)."""
    actor = Principal.system(organization=organization, name="demo-seed")
    system, _ = registry.ai_system_register(
        actor=actor,
        name=name,
        intended_purpose="Scores consumer credit applications to support (not replace) "
        "the decision of a credit officer.",
        role="provider",
    )
    splits = _dataset_versions(actor=actor, system=system, name=name)
    model, _ = registry.model_create(actor=actor, system=system, name="scorer")
    deployment, _ = registry.deployment_create(
        actor=actor, system=system, environment="production", resources={"cpu": 2}
    )
    versions = [
        _trained_version(actor=actor, system=system, model=model, name=name, i=i, splits=splits)
        for i in range(model_versions)
    ]
    if not classify:
        return system
    compliance.classification_record(actor=actor, system=system, answers=PROVISIONAL_ANSWERS)
    registry.deployment_activate(
        actor=actor, deployment=deployment, model_version=versions[0], reason="first release"
    )
    if len(versions) > 1:
        registry.deployment_activate(
            actor=actor, deployment=deployment, model_version=versions[-1], reason="better AUC"
        )
        registry.deployment_rollback(actor=actor, deployment=deployment, reason="drift alarm")
    for b in range(batches):
        registry.prediction_batch_record(
            actor=actor,
            deployment=deployment,
            input_sha256=text_sha256(f"in-{b}"),
            output_sha256=text_sha256(f"out-{b}"),
            row_count=100 + b,
            rows_root=text_sha256(f"root-{b}"),
        )
    return system


def _dataset_versions(
    *, actor: Principal, system: AISystem, name: str
) -> dict[str, DatasetVersion]:
    """The train and test versions of the system's one dataset, by split."""
    dataset, _ = registry.dataset_create(
        actor=actor, system=system, name="applications", description="Loan applications"
    )
    splits = {}
    for split in ("train", "test"):
        splits[split], _ = registry.dataset_version_register(
            actor=actor,
            dataset=dataset,
            version=f"2025-{split}",
            sha256=text_sha256(f"{name}-{split}"),
            size_bytes=1_048_576,
            row_count=20_000 if split == "train" else 5_000,
            schema=[{"name": "income", "type": "number"}, {"name": "age", "type": "number"}],
            split=split,
            datasheet=DATASHEET,
            contains_personal_data=True,
            contains_special_category_data=False,
            uri=f"s3://demo/{split}.parquet",
        )
    return splits


def _trained_version(
    *,
    actor: Principal,
    system: AISystem,
    model: Model,
    name: str,
    i: int,
    splits: dict[str, DatasetVersion],
) -> ModelVersion:
    """Model version ``1.i``, from a completed training run on the train split."""
    run, _ = registry.training_run_start(
        actor=actor,
        system=system,
        model=model,
        params={"max_depth": 4 + i % 3, "eta": 0.1},
        dataset_versions=[splits["train"]],
        code_revision=f"{i:07x}",
        environment={"python": "3.11", "xgboost": "2.1"},
    )
    auc = round(0.80 + 0.01 * (i % 7), 4)
    run, _ = registry.training_run_complete(actor=actor, run=run, metrics={"auc": auc})
    version, _ = registry.model_version_register(
        actor=actor,
        model=model,
        version=f"1.{i}",
        artifact_sha256=text_sha256(f"{name}-model-{i}"),
        artifact_format="xgboost-json",
        framework="xgboost",
        framework_version="2.1.0",
        training_run=run,
        metrics={"auc": auc, "accuracy": round(0.75 + 0.005 * (i % 9), 4)},
        dataset_versions=[splits["train"], splits["test"]],
        uri=f"s3://demo/models/{i}.json",
    )
    return version


# The questionnaire of a consumer-credit scorer: Annex III, point 5(b), profiling, no
# exemption, not yet on the market; every other question asked is answered "no"/"none"
# (``demo_answers``).
HIGH_RISK_ANSWERS = {
    "prohibited_practices": [],
    "annex_i_safety_component": False,
    "annex_iii_area": "essential_services",
    "annex_iii_point": "5b",
    "profiling": True,
    "art_6_3_exemption": "none",
    "interacts_with_persons": False,
    "generates_synthetic_content": False,
    "emotion_recognition_or_biometric_categorisation": False,
    "deep_fake_or_public_interest_text": False,
    "general_purpose_ai_model": False,
    "placed_on_market_on": "not_yet",
}


def demo_answers(answers: dict[str, Any], *, role: str = "provider") -> dict[str, Any]:
    """``answers`` with every further question the questionnaire asks of them answered
    "no" (false, "none", nothing, "not_yet")."""
    from apps.compliance import rules

    out = dict(answers)
    for question in rules.QUESTIONS:
        if question.key in out or (question.when is not None and not question.when(out, role)):
            continue
        if question.kind == "bool":
            out[question.key] = False
        elif question.kind == "choices":
            out[question.key] = []
        elif question.kind == "date":
            out[question.key] = "not_yet"
        elif question.options:
            out[question.key] = "none" if "none" in question.options else question.options[0]
    return out


def demo_declaration_ready(*, system: AISystem) -> AISystem:
    """Puts on the record what a declaration of conformity for the demo system needs:
    its high-risk classification, the provider's name and address with the
    data-protection statement, and the completed conformity assessment (Art. 43)."""
    from apps.compliance import services as compliance

    actor = Principal.system(organization=system.organization, name="demo-seed")
    compliance.classification_record(
        actor=actor, system=system, answers=demo_answers(HIGH_RISK_ANSWERS)
    )
    system, _ = registry.ai_system_provider_record(
        actor=actor,
        system=system,
        provider_name=f"{system.organization.name} Lending GmbH",
        provider_address="Hauptstrasse 1\n10115 Berlin\nGermany",
        data_protection_statement="The system processes personal data of credit applicants "
        "in compliance with Regulation (EU) 2016/679 (GDPR); the data protection impact "
        "assessment is kept by the data protection officer.",
    )
    compliance.obligation_evidence_attach(
        actor=actor,
        system=system,
        obligation="art_43",
        description="Internal control (Annex VI): conformity assessment report CA-2026-01, "
        "completed and signed by the head of quality.",
        uri="s3://demo/conformity/CA-2026-01.pdf",
        sha256=text_sha256("CA-2026-01"),
    )
    return system
