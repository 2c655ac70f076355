"""The ledger events of the serving fleet (see apps/ledger/events.py)."""

from __future__ import annotations

from apps.ledger.events import declare, declare_section

FLEET = declare_section(
    title="Serving fleet and online decisions",
    order=55,
    intro="""
Online decisions logged by a serving system (KServe's inference logger, or JSON
Lines) are sealed into prediction batches: each sealed batch is one
`prediction_batch.recorded` entry whose `ran_on.online` says so, whose `rows_root`
(spec §6) covers every decision in it, and whose rows have receipts like any batch's
(docs/online-serving.md). The batch's `input_sha256` is the SHA-256 of its rows' input
digests, one hex digest and a newline per row; its `output_sha256` that of its rows'
outputs, the RFC 8785 JSON of each and a newline per row.
""",
)

SERVING_POLICY_CHANGED = declare(
    "serving_policy.changed",
    subject="organization",
    section=FLEET,
    fields={"store_inputs": "true: inputs of online decisions are stored, not only digested"},
)
WORKER_HARDWARE_CHANGED = declare(
    "worker.hardware_changed",
    subject="worker",
    section=FLEET,
    subject_id="Celery node name",
    fields={
        "host": "",
        "before": "GPUs as last seen: name, uuid, driver, mig_mode",
        "after": "GPUs now",
        "before_sha256": "",
        "after_sha256": "",
        "systems": "ids of the high-risk AI systems whose batches this host ran",
    },
    doc="on the ledger of each organization with a high-risk system this worker served: "
    "a replaced GPU or a new driver can change results",
)
