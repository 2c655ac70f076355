"""What monitoring's free-form request fields accept, for the OpenAPI schema (the
services check them: apps/monitoring/services/policies.py, labels)."""

from __future__ import annotations

from rest_framework import serializers

from audit_platform.schema import documented

RowsField = documented(
    serializers.ListField,
    {"type": "array", "items": {"type": "integer", "minimum": 0}},
)
LabelsField = documented(
    serializers.ListField,
    {"type": "array", "items": {"type": "integer", "enum": [0, 1]}},
)
FeatureThresholdsField = documented(
    serializers.DictField,
    {
        "type": "object",
        "additionalProperties": {"type": "number"},
        "description": "Watched feature -> the drift statistic beyond which it has drifted "
        "(a p-value below 1 for ks and chi2).",
    },
)
ActivationThresholdsField = documented(
    serializers.DictField,
    {
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "properties": {"min": {"type": "number"}, "max": {"type": "number"}},
            "minProperties": 1,
            "additionalProperties": False,
        },
        "description": "Metric -> bounds a retrained version's assessments must meet "
        "before it is activated by itself.",
    },
)
