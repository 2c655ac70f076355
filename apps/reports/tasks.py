"""Report rendering on the ``reports`` queue: thin, id-based, safe to run twice."""

from __future__ import annotations

from celery import Task, shared_task

RETRYABLE = (ConnectionError, TimeoutError)


@shared_task(
    bind=True,
    name="apps.reports.report_generate",
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    max_retries=3,
    time_limit=1800,
    soft_time_limit=1700,
)
def report_generate_task(self: Task, report_id: int) -> None:
    """Renders, signs and records one report; a final failure leaves it failed."""
    from apps.reports import services

    if not services.report_claim(report_id=report_id):
        return
    try:
        services.report_generate(report_id=report_id)
    except Exception as exc:
        if not (isinstance(exc, RETRYABLE) and self.request.retries < self.max_retries):
            services.report_fail(
                report_id=report_id, reason=f"rendering failed: {type(exc).__name__}: {exc}"
            )
            if not isinstance(exc, RETRYABLE):
                return
        raise
