"""Why a job cannot be done: a reason for the record, not a crash to retry."""

from __future__ import annotations


class JobRefused(Exception):
    """A permanent problem with the job's inputs (bad file, wrong columns, unsafe or
    broken model): retrying cannot help, so the job is marked failed with it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IntegrityFailure(JobRefused):
    """A stored file's content no longer has the digest it was stored under."""

    def __init__(self, *, what: str, expected: str, found: str) -> None:
        super().__init__(
            f"integrity check failed: the {what} has SHA-256 {found}, not the recorded "
            f"{expected}; it was not loaded"
        )
        self.what, self.expected, self.found = what, expected, found
