from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.inference import devices, rescore
from apps.inference.errors import JobRefused
from apps.registry.models import PredictionBatch


class Command(BaseCommand):
    help = (
        "Re-scores a completed batch's rows with its model and compares the outputs with "
        "the served ones within a tolerance (|again - served| <= atol + rtol*|served|); "
        "prints the largest deviation; exit 1 when a row is outside. Receipts prove what "
        "was served; this says what a re-run gives (docs/VERIFY.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("batch", help="the prediction batch's id")
        parser.add_argument(
            "--device",
            choices=("auto", "cpu"),
            default="auto",
            help="auto: CUDA where this process may use it (INFERENCE_DEVICE), else the CPU",
        )
        parser.add_argument("--atol", type=float, default=rescore.DEFAULT_ATOL)
        parser.add_argument("--rtol", type=float, default=rescore.DEFAULT_RTOL)

    def handle(
        self, *args: Any, batch: str, device: str, atol: float, rtol: float, **_: Any
    ) -> None:
        if atol < 0 or rtol < 0:
            raise CommandError("--atol and --rtol are tolerances: give numbers >= 0")
        try:
            found = PredictionBatch.objects.select_related(
                "model_version__artifact", "input_artifact", "output_artifact"
            ).get(pk=batch)
        except (PredictionBatch.DoesNotExist, ValueError, ValidationError):
            raise CommandError(f"no prediction batch {batch!r}") from None
        on = devices.select_device() if device == "auto" else devices.cpu_device("--device cpu")
        try:
            report = rescore.batch_rescore_check(batch=found, device=on, atol=atol, rtol=rtol)
        except JobRefused as exc:
            raise CommandError(f"not re-scored: {exc.reason}") from None
        self.stdout.write(json.dumps(report.as_dict(), indent=2, sort_keys=True))
        if not report.within_tolerance:
            raise CommandError(
                f"{report.rows_outside_tolerance} of {report.rows} rows differ from the served "
                f"outputs by more than atol={atol} + rtol={rtol}*|served| (largest deviation "
                f"{report.max_abs_deviation:.3g}, row {report.worst_row})"
            )
