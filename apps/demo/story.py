"""The demo's story: a bank's credit-scoring system (Annex III, point 5(b): high-risk)
from its first dataset to a retrained version serving, told through the same services
that the API and the pages call, so that every step is on the organization's ledger
exactly as a user's would be. Tasks (scoring, assessments, monitoring, explanations,
reports) run where the settings send them: in-process on the embedded default.

Each step is one function of the :class:`Story` it adds to; ``STEPS`` lists them in
order, with the title the command's progress lines show."""

from __future__ import annotations

import hashlib
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.compliance import selectors as compliance_selectors
from apps.compliance import services as compliance
from apps.demo import data
from apps.demo.people import Person, people_join
from apps.demo.receiver import PipelineReceiver
from apps.explainability import services as explainability
from apps.fleet.services import online as fleet
from apps.inference import services as inference
from apps.ledger.digests import text_sha256
from apps.ledger.export import bundle_write
from apps.ledger.selectors import log_for
from apps.monitoring import selectors as monitoring_selectors
from apps.monitoring import services as monitoring
from apps.registry import services as registry
from apps.registry.artifacts import artifact_store
from apps.reports import services as reports
from apps.reports.demo import HIGH_RISK_ANSWERS, demo_answers
from apps.tenancy import services as tenancy
from audit_platform.principal import Principal

ORGANIZATION_SLUG = "nordbank-demo"
ORGANIZATION_NAME = "Nordbank AG (demo)"
TRAIN_ROWS, TEST_ROWS, BATCH_ROWS = 3000, 1000, 1000
DATASHEET = {
    "design_choices": "One row per consumer-credit application of winter 2025/26; "
    "features chosen with the credit-risk team, protected attributes kept for testing only.",
    "collection_process": "Exported monthly from the loan origination system.",
    "data_origin": "Nordbank loan origination system (synthetic for this demo)",
    "original_purpose": "Loan servicing and credit-risk reporting",
    "preparation_steps": {"cleaning": "Duplicates dropped", "labelling": "Repaid within 12 months"},
    "assumptions": "Past repayment behaviour predicts future repayment.",
    "suitability": "Covers all regions and age bands the product is offered to.",
    "bias_examination": "Approval rates and error rates compared by sex and age band.",
    "bias_mitigation": "Sex and age band are never model inputs; fairness tested per release.",
    "data_gaps": "Few applicants over 75; seasonal workers under-represented in winter.",
}


@dataclass
class Story:
    """What the steps made so far, by name."""

    organization: Any
    people: dict[str, Person] = field(default_factory=dict)
    made: dict[str, Any] = field(default_factory=dict)
    receiver: PipelineReceiver | None = None

    def as_(self, role: str) -> Principal:
        return self.people[role].acting(organization=self.organization)

    def __getitem__(self, name: str) -> Any:
        return self.made[name]

    def __setitem__(self, name: str, value: Any) -> None:
        self.made[name] = value


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def upload(story: Story, *, role: str, content: bytes, name: str) -> Any:
    """Stores a file as the person's upload (``/api/v1/artifacts/``)."""
    file = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    artifact, _ = artifact_store(
        organization=story.organization,
        uploaded=file,
        declared_sha256=sha256(content),
        actor=story.as_(role),
    )
    return artifact


def organization_found() -> Story:
    organization = tenancy.organization_create(slug=ORGANIZATION_SLUG, name=ORGANIZATION_NAME)
    story = Story(organization=organization)
    operator = Principal.system(organization=organization, name="manage.py demo")
    story.people = people_join(organization=organization, actor=operator)
    return story


def system_register(story: Story) -> None:
    owner = story.as_("owner")
    system, _ = registry.ai_system_register(
        actor=owner,
        name="Consumer credit scoring",
        intended_purpose="Scores consumer-credit applications (probability of repayment) "
        "to support, not replace, the decision of a credit officer.",
        role="provider",
        owner_email=story.people["ml_engineer"].email,
    )
    system, _ = registry.ai_system_provider_record(
        actor=owner,
        system=system,
        provider_name="Nordbank AG",
        provider_address="Bankstrasse 1\n10115 Berlin\nGermany",
        data_protection_statement="Applicants' personal data are processed under the GDPR; "
        "the data protection impact assessment is kept by the data protection officer.",
    )
    story["system"] = system


def training_data_register(story: Story) -> None:
    engineer = story.as_("ml_engineer")
    dataset, _ = registry.dataset_create(
        actor=engineer, system=story["system"], name="applications", description="Applications"
    )
    story["dataset"] = dataset
    story["winter"] = data.applicants(rows=TRAIN_ROWS + TEST_ROWS, seed=2025)
    train = {k: v[:TRAIN_ROWS] for k, v in story["winter"].items()}
    story["train"] = train
    story["train_version"] = dataset_version(
        story, version="2025-winter", split="train", columns=train
    )


def dataset_version(story: Story, *, version: str, split: str, columns: dict) -> Any:
    content = data.parquet(columns)
    upload(story, role="ml_engineer", content=content, name=f"{version}-{split}.parquet")
    registered, _ = registry.dataset_version_register(
        actor=story.as_("ml_engineer"),
        dataset=story["dataset"],
        version=f"{version}-{split}",
        sha256=sha256(content),
        size_bytes=len(content),
        row_count=len(next(iter(columns.values()))),
        schema=data.schema(columns),
        split=split,
        datasheet=DATASHEET,
        contains_personal_data=True,
        contains_special_category_data=False,
        artifact_sha256=sha256(content),
    )
    # As a pipeline waits for the version's statistics before it trains on it: a run
    # naming the version while a worker writes them can deadlock on PostgreSQL.
    return wait_for(lambda: _statistics_settled(registered))


def _statistics_settled(version: Any) -> Any:
    version.refresh_from_db()
    return None if version.statistics_state == "pending" else version


def environment() -> dict[str, str]:
    import sklearn
    import xgboost

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "xgboost": xgboost.__version__,
        "scikit-learn": sklearn.__version__,
        "os": platform.platform(terse=True),
    }


def model_train(
    story: Story, *, version: str, frame: dict, datasets: list[Any], trigger: Any = None
) -> Any:
    """A training run on ``frame`` as the engineer's pipeline records it, and the model
    version it made, with its metrics on the held-out winter rows."""
    engineer = story.as_("ml_engineer")
    if "model" not in story.made:
        story["model"], _ = registry.model_create(
            actor=engineer, system=story["system"], name="repayment-xgb"
        )
    params = {"max_depth": 4, "eta": 0.1, "rounds": 60, "seed": 7}
    run, _ = registry.training_run_start(
        actor=engineer,
        system=story["system"],
        model=story["model"],
        params=params,
        dataset_versions=datasets,
        code_revision="3f2a9c1" if trigger is None else "8b41d07",
        environment=environment(),
        hardware={"cpu": platform.machine()},
        trigger=trigger.pk if trigger is not None else None,
    )
    booster = data.train(frame=frame, seed=7)
    held_out = {k: v[TRAIN_ROWS:] for k, v in story["winter"].items()}
    metrics = data.metrics(frame=held_out, score=data.scores(booster=booster, frame=held_out))
    run, _ = registry.training_run_complete(actor=engineer, run=run, metrics=metrics)
    content = bytes(booster.save_raw(raw_format="json"))
    upload(story, role="ml_engineer", content=content, name=f"model-{version}.json")
    import xgboost

    model_version, _ = registry.model_version_register(
        actor=engineer,
        model=story["model"],
        version=version,
        artifact_sha256=sha256(content),
        artifact_format="xgboost-json",
        framework="xgboost",
        framework_version=xgboost.__version__,
        training_run=run,
        metrics=metrics,
        dataset_versions=datasets,
        uploaded=True,
    )
    story[f"booster {version}"] = booster
    return model_version


def first_model_train(story: Story) -> None:
    story["v1"] = model_train(
        story, version="1.0", frame=story["train"], datasets=[story["train_version"]]
    )


def system_classify(story: Story) -> None:
    """The officer answers the questionnaire: Annex III, point 5(b), high-risk; the
    obligations follow from it, and evidence is attached to the data-governance one."""
    officer = story.as_("compliance_officer")
    compliance.classification_record(
        actor=officer, system=story["system"], answers=demo_answers(HIGH_RISK_ANSWERS)
    )
    compliance.obligation_evidence_attach(
        actor=officer,
        system=story["system"],
        obligation="art_13",
        description="Instructions for use for credit officers, version 1 (Art. 13).",
        uri="https://intranet.nordbank.example/credit/scoring-instructions-v1.pdf",
        sha256=text_sha256("scoring-instructions-v1"),
    )
    compliance.risk_create(
        actor=officer,
        system=story["system"],
        review_date=(timezone.now() + timedelta(days=90)).date(),
        owner_email=story.people["compliance_officer"].email,
        **RISK,
    )


RISK = {
    "hazard": "Seasonal applicants are scored by a model trained on winter applicants, "
    "among whom they are rare; their scores may be less accurate.",
    "affected_persons": "Applicants for consumer credit, in particular young and seasonal workers.",
    "likelihood": "possible",
    "severity": "moderate",
    "residual_risk": "low",
    "mitigation": "Drift monitoring of every batch with a retraining trigger; human review "
    "of declined applicants under 25.",
}

# Fixed before any test runs (Art. 9(8)); the demo's model passes them with a margin.
THRESHOLDS = {
    "performance": {"accuracy": {"min": 0.7}, "roc_auc": {"min": 0.65}},
    "fairness": {
        "demographic_parity_difference": {"max": 0.1},
        "equalized_odds_difference": {"max": 0.15},
    },
    "robustness": {"decision_flip_rate": {"max": 0.2}, "mean_abs_score_change": {"max": 0.1}},
}


def version_assess(story: Story, *, version: Any, frame: dict, name: str) -> list[Any]:
    """The three assessments of ``version`` on a test set scored by it, each test report
    signed by the engineer as test lead and the officer as reviewer."""
    booster = story[f"booster {version.version}"]
    scored = data.with_decisions(frame=frame, score=data.scores(booster=booster, frame=frame))
    test_set = dataset_version(story, version=name, split="test", columns=scored)
    common = {
        "system": story["system"],
        "dataset_version": test_set,
        "task": "classification",
        "label_column": "repaid",
        "prediction_column": "decision",
        "model_version": version,
        "bootstrap_resamples": 50,
        "seed": 11,
    }
    extra = {
        "performance": {"score_column": "score"},
        "fairness": {"protected_attributes": data.PROTECTED},
        "robustness": {"score_column": "score", "numeric_features": data.FEATURES},
    }
    assessments = []
    for kind, thresholds in THRESHOLDS.items():
        assessment, *_ = compliance.assessment_request(
            actor=story.as_("ml_engineer"),
            kind=kind,
            thresholds=thresholds,
            **common,
            **extra[kind],
        )
        assessment = settled(assessment, done=("passed", "failed"))
        digest = compliance_selectors.assessment_test_report_sha256(assessment=assessment)
        for role, function in (("ml_engineer", "test lead"), ("compliance_officer", "reviewer")):
            compliance.assessment_sign(
                actor=story.as_(role),
                assessment=assessment,
                report_sha256=digest,
                function=function,
            )
        assessments.append(assessment)
    return assessments


def first_model_assess(story: Story) -> None:
    test = {k: v[TRAIN_ROWS:] for k, v in story["winter"].items()}
    story["v1 assessments"] = version_assess(
        story, version=story["v1"], frame=test, name="2025-winter"
    )


def version_approve_and_activate(story: Story, *, version: Any, reason: str) -> None:
    """The engineer asks, the officer (signed in with the second factor) approves, the
    engineer activates: nobody decides on their own (Art. 14)."""
    request, _ = compliance.approval_request_create(
        actor=story.as_("ml_engineer"),
        deployment=story["deployment"],
        model_version=version,
        reason=reason,
    )
    compliance.approval_decide(
        actor=story.as_("compliance_officer"),
        request=request,
        decision="approve",
        comment="Assessments passed against the thresholds fixed in advance; reports signed.",
    )
    registry.deployment_activate(
        actor=story.as_("ml_engineer"),
        deployment=story["deployment"],
        model_version=version,
        reason=reason,
    )


def first_deploy(story: Story) -> None:
    story["deployment"], _ = registry.deployment_create(
        actor=story.as_("ml_engineer"),
        system=story["system"],
        environment="production",
        resources={"cpu": 2},
    )
    version_approve_and_activate(story, version=story["v1"], reason="first release")


def monitoring_set(story: Story) -> None:
    """Drift of every batch against the training data, with alerts to the bank's alert
    channel and retraining asked of its pipeline (both signed webhooks)."""
    story.receiver = story.receiver or PipelineReceiver()
    policy, _, secret = monitoring.monitoring_policy_set(
        actor=story.as_("compliance_officer"),
        deployment=story["deployment"],
        reference_dataset_version=story["train_version"],
        features=data.FEATURES,
        drift_share=0.4,
        performance_metric="accuracy",
        performance_drop=0.05,
        webhook_urls=[story.receiver.url("alerts")],
        on_decay="retrain",
        pipeline_url=story.receiver.url("retrain"),
        dispatch_event_type="retrain-credit-model",
    )
    story.receiver.secret = secret
    story["policy"] = policy


def settled(record: Any, *, done: tuple[str, ...], seconds: float = 300) -> Any:
    """The record once its job is over: at once where tasks run in-process, after the
    workers finish where a broker queues them."""
    deadline = time.monotonic() + seconds
    record.refresh_from_db()
    while record.status not in done:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{type(record).__name__} {record.pk} still {record.status}")
        time.sleep(0.5)
        record.refresh_from_db()
    return record


def batch_score(story: Story, *, season: str, frame: dict) -> Any:
    """The engineer uploads a month of applications and our workers score them with
    the version the deployment serves; the batch's monitoring follows."""
    inputs = {name: frame[name] for name in data.FEATURES}
    artifact = upload(
        story, role="ml_engineer", content=data.parquet(inputs), name=f"{season}.parquet"
    )
    batch, _, _ = inference.batch_run_request(
        actor=story.as_("ml_engineer"), deployment=story["deployment"], input_artifact=artifact
    )
    batch = settled(batch, done=("completed", "failed"))
    if batch.status != "completed":
        raise RuntimeError(f"The {season} batch failed: {batch.failure_reason}")
    return batch


def winter_batch(story: Story) -> None:
    story["winter batch"] = batch_score(
        story, season="2026-01", frame=data.applicants(rows=BATCH_ROWS, seed=2026)
    )


def summer_batch(story: Story) -> None:
    """Seasonal hiring brings younger applicants with lower incomes: drift on the
    features, an alert, a retraining trigger and its signed webhook to the pipeline."""
    story["summer"] = data.applicants(rows=BATCH_ROWS, seed=2027, summer=True)
    story["summer batch"] = batch_score(story, season="2026-07", frame=story["summer"])
    alert = wait_for(
        lambda: monitoring_selectors.alerts_open(organization=story.organization).first()
    )
    story["alert"] = alert
    story["trigger"] = wait_for(
        lambda: monitoring_selectors.triggers_open(organization=story.organization).first()
    )


def wait_for(find: Callable[[], Any], seconds: float = 120) -> Any:
    deadline = time.monotonic() + seconds
    while (found := find()) is None:
        if time.monotonic() > deadline:
            raise RuntimeError("The monitoring did not report in time.")
        time.sleep(0.5)
    return found


def labels_arrive(story: Story) -> None:
    """Months later the repayments are known: the realized accuracy of the summer
    batch, beside the estimate made before the labels."""
    labels = story["summer"]["repaid"]
    monitoring.labels_upload(
        actor=story.as_("ml_engineer"),
        batch=story["summer batch"],
        rows=list(range(len(labels))),
        labels=[int(v) for v in labels],
    )


def incident_report(story: Story) -> None:
    """The officer treats the summer declines of young applicants as a serious
    incident (Art. 73), reports it and informs the authority within the deadline."""
    officer = story.as_("compliance_officer")
    aware = timezone.now() - timedelta(days=4)
    incident, _ = compliance.incident_open(
        actor=officer,
        system=story["system"],
        kind="general",
        description="Summer applicants under 25 were declined far more often than in "
        "winter after a seasonal shift in the applicant population.",
        became_aware_at=aware,
    )
    compliance.incident_report_add(
        actor=officer,
        incident=incident,
        kind="initial",
        content="Drift alert on income and age; declines of applicants under 25 rose. "
        "Affected decisions are being reviewed by credit officers.",
        root_cause="Training data of winter only; seasonal workers under-represented.",
        corrective_actions="Retrain on winter and summer data; human review of declines.",
    )
    compliance.incident_authority_informed(
        actor=officer,
        incident=incident,
        informed_at=aware + timedelta(days=2),
        member_state="DE",
        receiving_authority="Bundesnetzagentur (market surveillance)",
    )
    story["incident"] = incident


def retrain(story: Story) -> None:
    """The pipeline answers the trigger: a run on winter and summer data naming it, the
    version it made assessed on summer data, approved and activated."""
    summer_train = data.applicants(rows=TRAIN_ROWS, seed=2028, summer=True)
    both = {k: np.concatenate([story["train"][k], summer_train[k]]) for k in story["train"]}
    summer_version = dataset_version(
        story, version="2026-summer", split="train", columns=summer_train
    )
    story["v2"] = model_train(
        story,
        version="2.0",
        frame=both,
        datasets=[story["train_version"], summer_version],
        trigger=story["trigger"],
    )
    test = data.applicants(rows=TEST_ROWS, seed=2029, summer=True)
    story["v2 assessments"] = version_assess(
        story, version=story["v2"], frame=test, name="2026-summer"
    )
    version_approve_and_activate(
        story, version=story["v2"], reason=f"retrained on trigger {story['trigger'].pk}"
    )


def rollback(story: Story) -> None:
    """A data-pipeline fault is found in 2.0's feature preparation: the engineer rolls
    back to 1.0 (still approved) with the reason; once fixed, 2.0 serves again. Both
    changes pass the deployment gate."""
    engineer = story.as_("ml_engineer")
    registry.deployment_rollback(
        actor=engineer,
        deployment=story["deployment"],
        reason="2.0 read open_loans from a stale feature table for two hours; back to 1.0 "
        "until the feature pipeline is fixed.",
    )
    registry.deployment_activate(
        actor=engineer,
        deployment=story["deployment"],
        model_version=story["v2"],
        reason="feature pipeline fixed; 2.0 serves again",
    )


def online_decisions(story: Story) -> None:
    """The bank's online service logs each decision 2.0 makes as it makes it; sealing
    puts them on the ledger as a batch, each with its receipt."""
    frame = data.applicants(rows=200, seed=2030, summer=True)
    score = data.scores(booster=story["booster 2.0"], frame=frame)
    lines = [
        {
            "id": f"application-{number:05d}",
            "input": {name: float(frame[name][number]) for name in data.FEATURES},
            "output": {"score": round(float(score[number]), 6)},
        }
        for number in range(len(score))
    ]
    fleet.online_decisions_log(deployment=story["deployment"], lines=lines)
    fleet.online_seal(deployment_id=story["deployment"].pk, force=True)


def decision_explain(story: Story) -> None:
    """An applicant declined in summer asks why (Art. 86): SHAP values of the summer
    batch, then the decision explanation of their row."""
    batch = story["summer batch"]
    explanation, _ = explainability.explanation_request(
        actor=story.as_("ml_engineer"), model_version=story["v1"], prediction_batch=batch
    )
    settled(explanation, done=("completed", "failed"))
    declined = int(
        np.flatnonzero(data.scores(booster=story["booster 1.0"], frame=story["summer"]) < 0.5)[0]
    )
    story["explained row"] = declined
    story["explanation report"] = report(
        story, kind="decision_explanation", prediction_batch=batch, row=declined
    )


def report(story: Story, *, kind: str, **scope: Any) -> Any:
    made, *_ = reports.report_request(actor=story.as_("compliance_officer"), kind=kind, **scope)
    made = settled(made, done=("succeeded", "failed"))
    if made.status != "succeeded":
        raise RuntimeError(f"The {kind} report failed: {made.failure_reason}")
    return made


def reports_render(story: Story) -> None:
    system, now = story["system"], timezone.now()
    period = {"time_from": now - timedelta(days=1), "time_to": now + timedelta(minutes=5)}
    story["reports"] = [
        report(story, kind="annex_iv", system=system),
        report(story, kind="audit_trail", system=system, **period),
        report(story, kind="post_market_monitoring", system=system, **period),
        report(story, kind="model_card", model_version=story["v2"]),
    ]


def bundle_export(story: Story) -> None:
    """The auditor's export bundle: the whole ledger with its checkpoints and proofs,
    verifiable offline (``python -m apps.ledger.offline_verifier BUNDLE``)."""
    folder = Path(settings.VAR_DIR) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ORGANIZATION_SLUG}-ledger.zip"
    with open(path, "wb") as out:
        bundle_write(log=log_for(organization=story.organization), fileobj=out)
    story["bundle"] = path


STEPS: tuple[tuple[str, Callable[[Story], None]], ...] = (
    ("AI system registered (provider Nordbank AG)", system_register),
    ("training data with its Art. 10 datasheet", training_data_register),
    ("XGBoost training run and model version 1.0", first_model_train),
    ("classified high-risk (Annex III 5(b)); risk register", system_classify),
    ("performance, fairness, robustness assessed; reports signed", first_model_assess),
    ("approved by a second person, deployed and activated", first_deploy),
    ("monitoring policy with signed webhooks", monitoring_set),
    ("winter batch scored", winter_batch),
    ("summer batch scored: drift alert and retraining trigger", summer_batch),
    ("labels arrive: realized accuracy", labels_arrive),
    ("serious incident reported with its deadlines", incident_report),
    ("retrained 2.0 on the trigger, assessed, approved, activated", retrain),
    ("rollback to 1.0 with its reason, then 2.0 again", rollback),
    ("online decisions logged and sealed", online_decisions),
    ("an applicant's decision explained (Art. 86)", decision_explain),
    ("Annex IV, audit-trail, post-market, model-card reports", reports_render),
    ("export bundle", bundle_export),
)
