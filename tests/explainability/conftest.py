"""Fixtures shared with the inference tests."""

from __future__ import annotations

from tests.inference import conftest as inference_fixtures

# The inference tests' fixtures, shared.
pipeline = inference_fixtures.pipeline
post = inference_fixtures.post
upload = inference_fixtures.upload
served = inference_fixtures.served
run_batch = inference_fixtures.run_batch
