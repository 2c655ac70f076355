"""Test data made the way users make it: every factory calls the service a pipeline or
a person would reach through the API, so each object comes with its ledger entries.

The factories are ``factory.Factory`` subclasses whose ``_create`` calls the service
(``DjangoModelFactory.create`` would save rows behind the ledger's back); ``build``
is refused for the same reason. The acting principal is a system principal of the
object's organization unless ``actor`` is given.
"""

from __future__ import annotations

import functools
import io
from datetime import date
from typing import Any

import factory
import pyarrow.parquet as pq
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.compliance import models as compliance_models
from apps.compliance import services as compliance
from apps.explainability import services as explainability
from apps.explainability.models import Explanation
from apps.registry import models as registry_models
from apps.registry import services as registry
from apps.registry.artifacts import artifact_store
from apps.registry.tabular import type_name
from apps.tenancy import models as tenancy_models
from apps.tenancy import services as tenancy
from audit_platform.principal import Principal
from tests.support import (
    DATASHEET,
    make_frame,
    parquet_bytes,
    sha256,
    train_xgboost,
    xgboost_bytes,
)
from tests.support import (
    answers as questionnaire_answers,
)

ASSESSED_COLUMNS = {"label": [0, 1, 1, 0], "prediction": [0, 1, 0, 0], "age": [30, 41, 52, 63]}


def tests_actor(organization: Any) -> Principal:
    return Principal.system(organization=organization, name="tests")


def _actor_of(path: str) -> factory.LazyAttribute:
    """``actor`` defaults to the tests' system principal of the organization at ``path``
    (dotted attributes of the factory's declarations)."""

    def organization(stub: Any) -> Principal:
        target = stub
        for name in path.split("."):
            target = getattr(target, name)
        return tests_actor(target)

    return factory.LazyAttribute(organization)


class ServiceFactory(factory.Factory):
    class Meta:
        abstract = True

    @classmethod
    def _build(cls, model_class: type, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"{cls.__name__} makes objects through their service only: use create.")


# --- Tenancy ---------------------------------------------------------------------------


class OrganizationFactory(ServiceFactory):
    """``OrganizationFactory(slug="acme", owner="o@acme.example")``: the organization
    and its ledger, and (with ``owner``) a person holding the owner role."""

    class Meta:
        model = tenancy_models.Organization

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())

    @classmethod
    def _create(cls, model_class: type, **kwargs: Any) -> Any:
        return tenancy.organization_create(**kwargs)

    @factory.post_generation
    def owner(organization: Any, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if extracted:
            MembershipFactory(organization=organization, email=extracted, role="owner")


class MembershipFactory(ServiceFactory):
    class Meta:
        model = tenancy_models.Membership

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"person-{n}@example.invalid")
    role = "compliance_officer"
    actor = _actor_of("organization")

    @classmethod
    def _create(cls, model_class: type, **kwargs: Any) -> Any:
        return tenancy.membership_add(**kwargs)[0]


def key_holder(organization: Any) -> Principal:
    """The person who creates the tests' API keys of ``organization`` (every key is
    answerable to one): the user ``keys@<slug>.example.invalid``, acting in person as
    an owner. Not made a member, so that memberships and the ledger's first entries
    stay what the tests make them."""
    from django.contrib.auth import get_user_model

    email = f"keys@{organization.slug}.example.invalid"
    user = get_user_model().objects.filter(username=email).first()
    if user is None:
        user = get_user_model().objects.create_user(username=email, email=email)
    return Principal.for_user(organization=organization, user=user, role="owner")


class ApiKeyFactory(ServiceFactory):
    """An API key; its secret, shown once when the key is made, is on ``.secret``. It is
    created by the organization's ``key_holder`` unless ``actor`` is given."""

    class Meta:
        model = tenancy_models.ApiKey

    organization = factory.SubFactory(OrganizationFactory)
    role = "owner"
    name = "test"
    actor = factory.LazyAttribute(lambda o: key_holder(o.organization))

    @classmethod
    def _create(cls, model_class: type, **kwargs: Any) -> Any:
        api_key, secret, _ = tenancy.api_key_create(**kwargs)
        api_key.secret = secret
        return api_key


def artifact_upload(*, organization: Any, data: bytes, name: str = "file.bin") -> Any:
    """Stores bytes as an artifact of the organization, as an upload does."""
    artifact, _ = artifact_store(
        organization=organization,
        uploaded=SimpleUploadedFile(name, data),
        declared_sha256=None,
        actor=tests_actor(organization),
    )
    return artifact


# --- Registry ----------------------------------------------------------------------------


class AISystemFactory(ServiceFactory):
    class Meta:
        model = registry_models.AISystem

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"System {n}")
    intended_purpose = "Assess applicants"
    role = "provider"
    actor = _actor_of("organization")

    @classmethod
    def _create(cls, model_class: type, *, organization: Any, **kwargs: Any) -> Any:
        return registry.ai_system_register(**kwargs)[0]


class DatasetFactory(ServiceFactory):
    class Meta:
        model = registry_models.Dataset

    system = factory.SubFactory(AISystemFactory)
    name = factory.Sequence(lambda n: f"dataset-{n}")
    actor = _actor_of("system.organization")

    @classmethod
    def _create(cls, model_class: type, **kwargs: Any) -> Any:
        return registry.dataset_create(**kwargs)[0]


class DatasetVersionFactory(ServiceFactory):
    """A dataset version. With ``columns`` the data is uploaded as Parquet and the
    version refers to the uploaded file (digest, size, rows and schema from it);
    without, only its digest is declared (``sha256``)."""

    class Meta:
        model = registry_models.DatasetVersion

    # Not a field: the columns to upload (popped in _create).
    columns = None
    dataset = factory.SubFactory(DatasetFactory)
    version = factory.Sequence(str)
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    size_bytes = 1
    row_count = 1
    schema = factory.LazyFunction(lambda: [{"name": "x", "type": "number"}])
    split = "test"
    datasheet = factory.LazyFunction(lambda: dict(DATASHEET))
    contains_personal_data = False
    contains_special_category_data = False
    uri = ""
    actor = _actor_of("dataset.system.organization")

    @classmethod
    def _create(cls, model_class: type, *, columns: Any = None, **kwargs: Any) -> Any:
        if columns is not None:
            data = parquet_bytes(columns)
            artifact_upload(
                organization=kwargs["dataset"].system.organization, data=data, name="data.parquet"
            )
            table = pq.read_table(io.BytesIO(data))
            kwargs.update(
                sha256=sha256(data),
                artifact_sha256=sha256(data),
                size_bytes=len(data),
                row_count=table.num_rows,
                schema=[{"name": f.name, "type": type_name(f.type)} for f in table.schema],
            )
        return registry.dataset_version_register(**kwargs)[0]


class ModelFactory(ServiceFactory):
    class Meta:
        model = registry_models.Model

    system = factory.SubFactory(AISystemFactory)
    name = factory.Sequence(lambda n: f"model-{n}")
    actor = _actor_of("system.organization")

    @classmethod
    def _create(cls, model_class: type, **kwargs: Any) -> Any:
        return registry.model_create(**kwargs)[0]


class TrainingRunFactory(ServiceFactory):
    class Meta:
        model = registry_models.TrainingRun

    system = factory.SubFactory(AISystemFactory)
    actor = _actor_of("system.organization")

    @classmethod
    def _create(cls, model_class: type, **kwargs: Any) -> Any:
        return registry.training_run_start(**kwargs)[0]


class ModelVersionFactory(ServiceFactory):
    """A model version. With ``artifact`` (model bytes) the file is uploaded and the
    version refers to it; without, only its digest is declared."""

    class Meta:
        model = registry_models.ModelVersion

    # Not a field: model bytes to upload (popped in _create).
    artifact = None
    model = factory.SubFactory(ModelFactory)
    version = factory.Sequence(lambda n: f"v{n}")
    artifact_sha256 = factory.Sequence(lambda n: f"{n + 1:064x}")
    artifact_format = "onnx"
    framework = factory.LazyAttribute(lambda o: o.artifact_format.split("-")[0])
    framework_version = "1"
    uri = factory.LazyAttribute(lambda o: "" if o.artifact else f"s3://models/{o.version}")
    actor = _actor_of("model.system.organization")

    @classmethod
    def _create(cls, model_class: type, *, artifact: bytes | None = None, **kwargs: Any) -> Any:
        if artifact is not None:
            artifact_upload(
                organization=kwargs["model"].system.organization, data=artifact, name="model.bin"
            )
            kwargs.update(artifact_sha256=sha256(artifact), uploaded=True)
        return registry.model_version_register(**kwargs)[0]


class DeploymentFactory(ServiceFactory):
    """A deployment; ``DeploymentFactory(serving=version)`` also activates the version."""

    class Meta:
        model = registry_models.Deployment

    system = factory.SubFactory(AISystemFactory)
    environment = "production"
    actor = _actor_of("system.organization")

    @classmethod
    def _create(cls, model_class: type, **kwargs: Any) -> Any:
        return registry.deployment_create(**kwargs)[0]

    @factory.post_generation
    def serving(deployment: Any, create: bool, extracted: Any, **kwargs: Any) -> None:
        if extracted is not None:
            # An unclassified system serves nothing (the organization's default policy):
            # a system not classified yet is classified minimal-risk first.
            classify_unclassified(deployment.system)
            registry.deployment_activate(
                actor=tests_actor(deployment.system.organization),
                deployment=deployment,
                model_version=extracted,
            )
            deployment.refresh_from_db()


def classify_unclassified(system: Any) -> None:
    """Classifies ``system`` minimal-risk (the questionnaire's baseline answers) unless
    it has a classification already, so that its deployments may serve."""
    if not compliance_models.Classification.objects.filter(system=system).exists():
        ClassificationFactory(system=system)


class PredictionBatchFactory(ServiceFactory):
    """A batch scored elsewhere, recorded with the caller's digests."""

    class Meta:
        model = registry_models.PredictionBatch

    deployment = factory.SubFactory(DeploymentFactory)
    input_sha256 = factory.Sequence(lambda n: f"{n + 1:064x}")
    output_sha256 = factory.Sequence(lambda n: f"{n + 2:064x}")
    row_count = 1
    rows_root = "ee" * 32
    actor = _actor_of("deployment.system.organization")

    @classmethod
    def _create(cls, model_class: type, **kwargs: Any) -> Any:
        return registry.prediction_batch_record(**kwargs)[0]


# --- Compliance ------------------------------------------------------------------------


class ClassificationFactory(ServiceFactory):
    class Meta:
        model = compliance_models.Classification

    system = factory.SubFactory(AISystemFactory)
    answers = factory.LazyAttribute(lambda o: questionnaire_answers(role=o.system.role))
    actor = _actor_of("system.organization")

    @classmethod
    def _create(cls, model_class: type, **kwargs: Any) -> Any:
        return compliance.classification_record(**kwargs)[0]


class RiskFactory(ServiceFactory):
    class Meta:
        model = compliance_models.Risk

    system = factory.SubFactory(AISystemFactory)
    hazard = factory.Sequence(lambda n: f"hazard-{n}")
    affected_persons = "applicants"
    likelihood = "possible"
    severity = "major"
    residual_risk = "medium"
    review_date = date(2030, 1, 1)
    actor = _actor_of("system.organization")

    @classmethod
    def _create(cls, model_class: type, **kwargs: Any) -> Any:
        return compliance.risk_create(**kwargs)[0]


class AssessmentFactory(ServiceFactory):
    """A queued performance assessment of an uploaded test set. With ``results`` it is
    also claimed and completed, as a worker would (``passed`` and ``outcomes`` too)."""

    class Meta:
        model = compliance_models.Assessment

    # Not fields: what a worker would complete the assessment with (popped in _create).
    results = None
    passed = True
    outcomes = factory.LazyFunction(dict)
    system = factory.SubFactory(AISystemFactory)
    dataset_version = factory.SubFactory(
        DatasetVersionFactory,
        dataset__system=factory.SelfAttribute("...system"),
        columns=ASSESSED_COLUMNS,
    )
    kind = "performance"
    task = "classification"
    label_column = "label"
    prediction_column = "prediction"
    thresholds = factory.LazyFunction(lambda: {"accuracy": {"min": 0.5}})
    actor = _actor_of("system.organization")

    @classmethod
    def _create(
        cls,
        model_class: type,
        *,
        results: dict[str, Any] | None = None,
        passed: bool = True,
        outcomes: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        assessment, _ = compliance.assessment_request(**kwargs)
        if results is not None:
            compliance.assessment_claim(assessment_id=assessment.pk)
            compliance.assessment_complete(
                assessment_id=assessment.pk, results=results, passed=passed, outcomes=outcomes
            )
            assessment.refresh_from_db()
        return assessment


class ApprovalRequestFactory(ServiceFactory):
    class Meta:
        model = compliance_models.ApprovalRequest

    deployment = factory.SubFactory(DeploymentFactory)
    model_version = factory.SubFactory(
        ModelVersionFactory, model__system=factory.SelfAttribute("...deployment.system")
    )
    actor = _actor_of("deployment.system.organization")

    @classmethod
    def _create(cls, model_class: type, **kwargs: Any) -> Any:
        return compliance.approval_request_create(**kwargs)[0]


class DecisionOverrideFactory(ServiceFactory):
    class Meta:
        model = compliance_models.DecisionOverride

    deployment = factory.SubFactory(DeploymentFactory)
    original_decision = 0
    new_decision = 1
    reason = "The officer knew the applicant's income had changed."
    actor = _actor_of("deployment.system.organization")

    @classmethod
    def _create(cls, model_class: type, **kwargs: Any) -> Any:
        return compliance.decision_override_record(**kwargs)[0]


class FriaFactory(ServiceFactory):
    """A fundamental-rights impact assessment with every element set to ``text``."""

    class Meta:
        model = compliance_models.FundamentalRightsAssessment

    # Not a field: the text of every element (popped in _create).
    text = "Assessed."
    system = factory.SubFactory(AISystemFactory, role="deployer")
    actor = _actor_of("system.organization")

    @classmethod
    def _create(cls, model_class: type, *, text: str = "Assessed.", **kwargs: Any) -> Any:
        elements = {element: text for element in compliance.FRIA_ELEMENTS}
        return compliance.fria_record(**kwargs, **elements)[0]


class IncidentFactory(ServiceFactory):
    """An open incident; ``reports=[(kind, content), ...]`` files its reports in order."""

    class Meta:
        model = compliance_models.Incident

    # Not a field: reports to file, in order (popped in _create).
    reports = ()
    system = factory.SubFactory(AISystemFactory)
    kind = "general"
    description = factory.Sequence(lambda n: f"Incident {n}")
    became_aware_at = factory.LazyFunction(timezone.now)
    actor = _actor_of("system.organization")

    @classmethod
    def _create(cls, model_class: type, *, reports: Any = (), **kwargs: Any) -> Any:
        incident, _ = compliance.incident_open(**kwargs)
        for kind, content in reports:
            compliance.incident_report_add(
                actor=kwargs["actor"], incident=incident, kind=kind, content=content
            )
        return incident


# --- Explainability ------------------------------------------------------------------


@functools.cache
def small_xgboost_model() -> bytes:
    """A small XGBoost model (JSON) over tests.support.FEATURES, trained once."""
    return xgboost_bytes(train_xgboost(rows=200, trees=5, depth=3))


class ExplanationFactory(ServiceFactory):
    """A queued explanation (computed too with ``run=True``): by default of an uploaded
    small XGBoost model's version, over an uploaded dataset version of its system."""

    class Meta:
        model = Explanation

    model_version = factory.SubFactory(
        ModelVersionFactory,
        artifact=factory.LazyFunction(small_xgboost_model),
        artifact_format="xgboost-json",
    )
    dataset_version = factory.SubFactory(
        DatasetVersionFactory,
        dataset__system=factory.SelfAttribute("...model_version.model.system"),
        columns=factory.LazyFunction(lambda: make_frame(20)),
    )
    background_rows = 10
    actor = _actor_of("model_version.model.system.organization")
    # Not a field: with True, a worker's claim and run follow (popped in _create).
    run = False

    @classmethod
    def _create(cls, model_class: type, *, run: bool = False, **kwargs: Any) -> Any:
        explanation, _ = explainability.explanation_request(**kwargs)
        if run:
            explainability.explanation_claim(explanation_id=explanation.pk)
            explainability.explanation_execute(explanation_id=explanation.pk)
            explanation.refresh_from_db()
        return explanation
