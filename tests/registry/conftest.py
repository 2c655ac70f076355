from __future__ import annotations

import pytest

from apps.registry.models import AISystem
from tests.factories import classify_unclassified


@pytest.fixture
def system(post):
    """A system registered by the pipeline and classified (minimal-risk baseline answers),
    since an unclassified system serves nothing under the default policy."""
    system = post(
        "system-list",
        {
            "name": "Credit scoring",
            "intended_purpose": "Creditworthiness of consumers",
            "role": "provider",
        },
    )
    classify_unclassified(AISystem.objects.get(pk=system["id"]))
    return system
