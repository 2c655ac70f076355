"""Re-scoring a completed batch for an auditor, compared within a tolerance.

A batch's receipts prove what was served, bit for bit. Scoring the same rows again,
on another device or another build, gives outputs that agree only to about 1e-7
(float32 sums in another order), so another ``rows_root``: a re-run is checked
against the served outputs within a stated tolerance, never by hash. Nothing is
written: the check reads the batch's input and output files and the model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from apps.inference import services
from apps.inference.devices import Device
from apps.inference.errors import JobRefused
from apps.registry.models import PredictionBatch

# Outputs agree when |re-scored - served| <= atol + rtol * |served| (numpy.isclose).
# CPU and GPU agree to about 1e-7 in float32; these leave a hundredfold margin.
DEFAULT_ATOL = 1e-5
DEFAULT_RTOL = 1e-5


@dataclass(frozen=True)
class RescoreReport:
    """How far a re-run's outputs are from the served ones."""

    batch: str
    rows: int
    served_on: str
    rescored_on: dict[str, Any]
    atol: float
    rtol: float
    max_abs_deviation: float
    worst_row: int | None
    rows_outside_tolerance: int

    @property
    def within_tolerance(self) -> bool:
        return self.rows_outside_tolerance == 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "within_tolerance": self.within_tolerance}


class _ServedOutputs:
    """The batch's stored outputs, handed out in runs of any length, in row order."""

    def __init__(self, stream: Any) -> None:
        self._batches = pq.ParquetFile(stream).iter_batches()
        self._buffer = np.empty((0, 0))

    def take(self, count: int) -> np.ndarray:
        while len(self._buffer) < count:
            batch = next(self._batches, None)
            if batch is None:
                raise JobRefused("the batch's output file has fewer rows than its input")
            columns = [c.to_numpy(zero_copy_only=False) for c in batch.columns]
            more = np.column_stack(columns).astype(np.float64)
            self._buffer = more if self._buffer.size == 0 else np.vstack([self._buffer, more])
        taken, self._buffer = self._buffer[:count], self._buffer[count:]
        return taken

    def rest(self) -> Any:
        """Rows left over once the input is exhausted (none for a consistent batch)."""
        if len(self._buffer):
            yield self._buffer
        yield from self._batches


def batch_rescore_check(
    *,
    batch: PredictionBatch,
    device: Device,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
) -> RescoreReport:
    """Scores the batch's input again with its model on ``device`` and compares each
    output with the served one; refuses a batch without stored input and output."""
    if batch.status != PredictionBatch.Status.COMPLETED:
        raise JobRefused(f"batch {batch.pk} is {batch.status}, not completed: nothing was served")
    if batch.input_artifact is None or batch.output_artifact is None:
        raise JobRefused(
            f"batch {batch.pk} was recorded, not run here: its input and output files "
            "are not stored, so it cannot be re-scored"
        )
    used_by = {"kind": "prediction_batch", "id": str(batch.pk)}
    model = services.model_for(model_version=batch.model_version, device=device, used_by=used_by)
    worst, worst_row, outside, row = 0.0, None, 0, 0
    with batch.output_artifact.file.open("rb") as output:
        served = _ServedOutputs(output)
        for _, x in services.feature_chunks(model=model, artifact=batch.input_artifact):
            again = np.asarray(model.predict(x), dtype=np.float64).reshape(len(x), -1)
            before = served.take(len(x))
            deviation = np.abs(again - before).max(axis=1)
            limit = (atol + rtol * np.abs(before)).min(axis=1)
            outside += int(np.count_nonzero(deviation > limit))
            if deviation.size and deviation.max() > worst:
                worst, worst_row = float(deviation.max()), row + int(deviation.argmax())
            row += len(x)
        if next(served.rest(), None) is not None:
            raise JobRefused("the batch's output file has more rows than its input")
    return RescoreReport(
        batch=str(batch.pk),
        rows=row,
        served_on=str(batch.ran_on.get("device", "unknown")),
        rescored_on=model.ran_on(),
        atol=atol,
        rtol=rtol,
        max_abs_deviation=worst,
        worst_row=worst_row,
        rows_outside_tolerance=outside,
    )
