"""Record identifiers: UUIDv7 with random bits, so they reveal no volume across tenants."""

import itertools
import time
import uuid

from audit_platform.ids import new_id


def test_an_id_is_a_version_7_uuid_carrying_the_current_unix_millisecond():
    before_ms = time.time_ns() // 1_000_000
    made = new_id()
    after_ms = time.time_ns() // 1_000_000

    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert before_ms <= made.int >> 80 <= after_ms


def test_ids_made_in_the_same_millisecond_share_no_counter():
    made = [new_id() for _ in range(2000)]
    by_millisecond: dict[int, list[int]] = {}
    for one in made:
        by_millisecond.setdefault(one.int >> 80, []).append(one.int & (2**74 - 1))

    assert len(set(made)) == len(made)
    crowded = max(by_millisecond.values(), key=len)
    # A counter would make consecutive ids in one millisecond differ by small steps.
    steps = [abs(b - a) for a, b in itertools.pairwise(crowded)]
    assert all(step > 2**32 for step in steps)
