"""What the registry's free-form request fields accept, for the OpenAPI schema; built
from the same constants the services check against."""

from __future__ import annotations

import math
from typing import Any

from rest_framework import serializers

from apps.registry.services import DATASHEET_FIELDS, PREPARATION_STEPS
from apps.registry.tabular import TYPES
from audit_platform.schema import documented, free_object

DATASET_SCHEMA: dict[str, Any] = {
    "type": "array",
    "minItems": 1,
    "description": "The columns of the data, in file order; each name once. An uploaded "
    "Parquet file must have exactly these columns and types.",
    "items": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "type": {"type": "string", "enum": list(TYPES)},
        },
        "required": ["name", "type"],
        "additionalProperties": False,
    },
    "example": [{"name": "age", "type": "integer"}, {"name": "income", "type": "number"}],
}

_TEXT = {"type": "string", "description": "Free text."}
DATASHEET: dict[str, Any] = {
    "type": "object",
    "description": "The data governance answers of Art. 10(2) AI Act. original_purpose "
    "(Art. 10(2)(b)) is required when contains_personal_data is true.",
    "properties": {
        **{name: _TEXT for name in DATASHEET_FIELDS},
        "preparation_steps": {
            "type": "object",
            "description": "Art. 10(2)(c): what was done in each preparation step taken.",
            "properties": {step: _TEXT for step in PREPARATION_STEPS},
            "additionalProperties": False,
        },
    },
    "required": [name for name in DATASHEET_FIELDS if name != "original_purpose"],
    "additionalProperties": False,
}

METRICS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {"type": "number"},
    "description": "Metric name -> value, as the pipeline measured it.",
    "example": {"auc": 0.91, "log_loss": 0.32},
}

DatasetSchemaField = documented(serializers.JSONField, DATASET_SCHEMA)
DatasheetField = documented(serializers.JSONField, DATASHEET)


class FiniteMetricsField(serializers.DictField):
    """Metric name -> a finite number: a value that is text, a truth value, an object
    or not finite cannot be compared across runs, so it is refused naming the metric."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        metrics = super().to_internal_value(data)
        for name, value in metrics.items():
            is_number = isinstance(value, int | float) and not isinstance(value, bool)
            if not is_number or not math.isfinite(value):
                raise serializers.ValidationError(
                    f"Metric {name!r} is {value!r}: give each metric as a finite number."
                )
        return metrics


MetricsField = documented(FiniteMetricsField, METRICS)
ParamsField = documented(
    serializers.DictField,
    free_object("Hyperparameters, as the training code names them.", {"max_depth": 4}),
)
EnvironmentField = documented(
    serializers.DictField,
    free_object("The software environment (packages and versions).", {"python": "3.11"}),
)
HardwareField = documented(
    serializers.DictField,
    free_object("The hardware used (accelerators, memory).", {"gpu": "1x H100"}),
)
ResourcesField = documented(
    serializers.DictField,
    free_object("Resources the deployment runs with.", {"replicas": 2, "cpu": "2"}),
)
RanOnField = documented(
    serializers.DictField,
    free_object("Where the batch was scored (host, accelerator).", {"host": "scorer-1"}),
)
SignatureField = documented(
    serializers.JSONField,
    free_object(
        "A Sigstore bundle (OpenSSF Model Signing v1.0), as model-signing writes it.",
        {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"publicKey": {"hint": "…"}, "tlogEntries": []},
            "dsseEnvelope": {"payload": "…", "payloadType": "application/vnd.in-toto+json"},
        },
    ),
)
