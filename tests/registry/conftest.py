from __future__ import annotations

import pytest


@pytest.fixture
def system(post):
    return post(
        "system-list",
        {
            "name": "Credit scoring",
            "intended_purpose": "Creditworthiness of consumers",
            "role": "provider",
        },
    )
