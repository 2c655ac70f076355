"""Two organizations create records in turn: nothing in the ids one of them sees, in
API answers or in page links, counts what the other made in between."""

import itertools
import re
import uuid

from django.urls import reverse

SYSTEM = {"intended_purpose": "Scoring", "role": "provider"}


def _gaps(ids: list[str]) -> list[int]:
    numbers = [uuid.UUID(i).int for i in ids]
    return [b - a for a, b in itertools.pairwise(numbers)]


def test_ids_seen_by_one_organization_give_no_count_of_the_others(
    org, other_org, client_for, post, make_person, client_as
):
    ours, theirs = client_for(org, "owner"), client_for(other_org, "owner")
    seen = []
    for turn in range(4):
        seen.append(post("system-list", {**SYSTEM, "name": f"Ours {turn}"}, client=ours)["id"])
        post("system-list", {**SYSTEM, "name": f"Theirs {turn}"}, client=theirs)

    assert all(uuid.UUID(i).version == 7 for i in seen)
    # Sequential ids would step by 2 here (one of theirs between two of ours); these
    # differ by random amounts far beyond any count.
    assert all(abs(gap) > 2**40 for gap in _gaps(seen))
    listed = ours.get(reverse("system-list")).json()["results"]
    assert sorted(s["id"] for s in listed) == sorted(seen)

    page = client_as(make_person(org, "auditor")).get(reverse("web:systems"))
    linked = re.findall(r'href="/systems/([^/"]+)/"', page.content.decode())
    assert sorted(linked) == sorted(seen)


def test_a_number_where_an_id_belongs_is_not_found(owner, org, make_person, client_as):
    assert owner.get("/api/v1/systems/1").status_code == 404
    assert client_as(make_person(org, "auditor")).get("/systems/1/").status_code == 404
