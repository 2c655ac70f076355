"""Signing an assessment's test report on the system page (Annex IV 2(g)): the person
reads the report (its digest is on the page, the report itself one link away), names
the function in which they sign, and signs exactly what they read. Like approving and
closing incidents, it needs a session logged in with a second factor. The action is
``systems.assessment_sign``; this module builds the rows and the form."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.compliance import selectors as compliance_selectors
from audit_platform.principal import Principal
from audit_platform.roles import TEST_REPORT_SIGNER_ROLES


class SignForm(forms.Form):
    function = forms.CharField(
        label="Your function", max_length=200, help_text="As it goes on the record, e.g. test lead."
    )
    report_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, assessment_pk: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix=f"sign-{assessment_pk}", **kwargs)
        self.assessment_pk = assessment_pk


def signing_rows(
    *, principal: Principal, assessments: list[Any], bound: SignForm | None = None
) -> list[dict[str, Any]]:
    """Each completed assessment with its report's digest, its signatures and, for a
    person who may sign and has not, the form to sign it (``bound``: one that failed)."""
    may_sign = principal.in_person and principal.role in TEST_REPORT_SIGNER_ROLES
    rows = []
    for assessment in assessments:
        signatures = list(assessment.signatures.all())
        sha256 = compliance_selectors.assessment_test_report_sha256(assessment=assessment)
        signed = any(s.signed_by_id == principal.person_id for s in signatures)
        form = None
        if may_sign and not signed:
            form = bound if bound is not None and bound.assessment_pk == assessment.pk else None
            form = form or SignForm(assessment_pk=assessment.pk, initial={"report_sha256": sha256})
        rows.append(
            {"assessment": assessment, "sha256": sha256, "signatures": signatures, "form": form}
        )
    return rows
