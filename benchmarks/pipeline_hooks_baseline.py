"""The named baseline of bench_pipeline_hooks.py: a bare DRF endpoint in the same server.

Settings: the service's own, with the routes of pipeline_hooks_baseline_urls.py (the
service's and one bare DRF write). Loaded only by the benchmark's server
(DJANGO_SETTINGS_MODULE=benchmarks.pipeline_hooks_baseline).
"""

from audit_platform.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.pipeline_hooks_baseline_urls"
