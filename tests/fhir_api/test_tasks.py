"""Task over FHIR: a provider system finds referrals to its services and moves them along
the lifecycle with PUT or JSON Patch, quoting the version it read (If-Match, or
meta.versionId); a stale version is refused with 412, a move the lifecycle does not allow
with 409 naming both statuses, a move that lacks what it needs with 422 naming the element.
Another provider sees and changes nothing."""

from __future__ import annotations

from typing import Any

from healthequity.referrals.models import FailureReason, Referral, ReferralStatus

from .conftest import World, refer

FAILURE = "https://healthequity.example/fhir/CodeSystem/referral-failure-reason"
DIRECTORY_ORGANIZATION = "https://healthequity.example/fhir/Id/directory-organization"


def moved(world: World, task: dict[str, Any], **changes: Any) -> dict[str, Any]:
    reply = world.provider.put(f"Task/{task['id']}", {**task, **changes}, task["meta"]["versionId"])
    assert reply.status == 200, reply.data
    return reply.data


def test_a_provider_finds_its_tasks(world: World) -> None:
    first = refer(world)
    second = refer(world, family="Ashworth", nhs_number=None)
    owner = f"Organization/{world.advice_organization_id}"
    inbox = world.provider.get("Task", owner=owner, status="requested", _count="1")
    assert (inbox.data["total"], inbox.ids) == (2, [first.task_id])  # oldest first
    links = {link["relation"]: link["url"] for link in inbox.data["link"]}
    assert links["next"].endswith(f"/fhir/Task?owner={owner}&status=requested&_count=1&_page=2")
    assert world.provider.get(
        "Task", owner=owner, status="requested", _count="1", _page="2"
    ).ids == [second.task_id]
    assert world.provider.get("Task", patient=second.person_id).ids == [second.task_id]
    assert world.provider.get("Task", focus=f"ServiceRequest/{first.task_id}").ids == [
        first.task_id
    ]
    assert (
        world.provider.get(
            "Task",
            **{"owner:identifier": f"{DIRECTORY_ORGANIZATION}|{world.advice_organization_id}"},
        ).data["total"]
        == 2
    )
    assert world.provider.get("Task", owner=world.walking_organization_id).data["total"] == 0
    assert world.provider.get("Task", modified="ge2020-01-01", date="lt2000").data["total"] == 0
    assert world.provider.get("Task", _count="0").data["total"] == 2
    task = world.provider.get(f"Task/{first.task_id}")
    assert task.headers["etag"] == 'W/"1"'
    assert task.data["owner"]["identifier"] == {
        "system": DIRECTORY_ORGANIZATION,
        "value": world.advice_organization_id,
    }
    # The walking group's system sees none of it.
    assert world.other_provider.get("Task").data["total"] == 0
    assert world.other_provider.get(f"Task/{first.task_id}").status == 404


def test_a_stale_version_is_refused_and_nothing_changes(world: World) -> None:
    task = world.provider.get(f"Task/{refer(world).task_id}").data
    received = moved(world, task, status="received")
    stale = world.provider.put(f"Task/{task['id']}", {**task, "status": "accepted"}, "1")
    assert stale.status == 412
    assert stale.issue()["code"] == "conflict"
    assert stale.issue()["diagnostics"] == (
        f"referral {task['id']} was changed by someone else: you saw version 1, it is now at "
        "version 2; read it again and make your change again if it still applies"
    )
    unversioned = {k: v for k, v in task.items() if k != "meta"}
    missing = world.provider.put(f"Task/{task['id']}", {**unversioned, "status": "accepted"}, None)
    assert missing.status == 428
    assert missing.issue()["expression"] == ["If-Match"]
    # Without If-Match, meta.versionId says which version the change was made from.
    accepted = world.provider.put(f"Task/{task['id']}", {**received, "status": "accepted"}, None)
    assert accepted.status == 200
    assert accepted.data["meta"]["versionId"] == "3"
    with world.database.session() as session:
        referral = session.get(Referral, task["id"])
        assert referral is not None
        assert (referral.status, referral.version) == (ReferralStatus.ACCEPTED, 3)


def test_a_move_the_lifecycle_does_not_allow_names_both_statuses(world: World) -> None:
    task = world.provider.get(f"Task/{refer(world).task_id}").data
    refused = world.provider.put(f"Task/{task['id']}", {**task, "status": "completed"}, "1")
    assert refused.status == 409
    assert refused.issue()["expression"] == ["Task.status"]
    assert refused.issue()["diagnostics"] == (
        "cannot go from requested to completed: from requested a referral can go to received, "
        "accepted, rejected or cancelled"
    )
    unknown = world.provider.put(f"Task/{task['id']}", {**task, "status": "on-hold"}, "1")
    assert unknown.status == 422
    assert "expected one of draft, requested, received" in unknown.issue()["diagnostics"]
    elsewhere = world.provider.put(f"Task/{task['id']}", {**task, "id": "another"}, "1")
    assert elsewhere.status == 400
    assert elsewhere.issue()["expression"] == ["Task.id"]
    assert world.provider.get(f"Task/{task['id']}").data["meta"]["versionId"] == "1"


def test_what_a_move_needs_is_asked_for_by_element(world: World) -> None:
    task = world.provider.get(f"Task/{refer(world).task_id}").data
    no_reason = world.provider.put(f"Task/{task['id']}", {**task, "status": "rejected"}, "1")
    assert no_reason.status == 422
    assert no_reason.issue()["expression"] == ["Task.statusReason.text"]
    assert no_reason.issue()["diagnostics"] == "reason: give the reason for rejecting the referral"
    task = moved(world, task, status="accepted")
    task = moved(world, task, status="in-progress")
    no_outcome = world.provider.put(f"Task/{task['id']}", {**task, "status": "completed"}, "3")
    assert no_outcome.status == 422
    assert no_outcome.issue()["expression"] == ["Task.output"]
    failed = moved(
        world,
        task,
        status="failed",
        statusReason={
            "coding": [{"system": FAILURE, "code": "not_reached"}],
            "text": "Three calls and a letter, no answer",
        },
    )
    assert failed["statusReason"] == {
        "coding": [
            {"system": FAILURE, "code": "not_reached", "display": "Could not reach the person"}
        ],
        "text": "Could not reach the person: Three calls and a letter, no answer",
    }
    with world.database.session() as session:
        referral = session.get(Referral, task["id"])
        assert referral is not None
        assert referral.failure_reason == FailureReason.NOT_REACHED
    assert world.practice.get(f"ServiceRequest/{task['id']}").data["status"] == "revoked"


def test_a_rejection_with_its_reason_and_a_repeated_update_changes_nothing(world: World) -> None:
    task = world.provider.get(f"Task/{refer(world).task_id}").data
    rejected = moved(world, task, status="rejected", statusReason={"text": "Outside our area"})
    assert rejected["statusReason"] == {"text": "Outside our area"}
    again = world.provider.put(f"Task/{task['id']}", rejected, rejected["meta"]["versionId"])
    assert again.status == 200
    assert again.data == rejected


def test_a_patch_changes_the_status_with_json_patch(world: World) -> None:
    task_id = refer(world).task_id
    operations = [
        {"op": "test", "path": "/status", "value": "requested"},
        {"op": "replace", "path": "/status", "value": "accepted"},
        {"op": "add", "path": "/statusReason", "value": {"text": "We will call on Monday"}},
    ]
    unversioned = world.provider.patch(f"Task/{task_id}", operations, None)
    assert unversioned.status == 428
    patched = world.provider.patch(f"Task/{task_id}", operations, "1")
    assert patched.status == 200, patched.data
    assert (patched.data["status"], patched.data["statusReason"]["text"]) == (
        "accepted",
        "We will call on Monday",
    )
    failing = world.provider.patch(f"Task/{task_id}", operations, "2")
    assert failing.status == 400
    assert "test failed" in failing.issue()["diagnostics"]
    as_json = world.client.patch(
        f"/fhir/Task/{task_id}",
        json=operations,
        headers={"Authorization": f"Bearer {world.provider.token}", "If-Match": 'W/"2"'},
    )
    assert as_json.status_code == 415


def test_the_referrer_may_cancel_and_another_provider_may_not_touch(world: World) -> None:
    task = world.practice.get(f"Task/{refer(world).task_id}").data
    other = world.other_provider.put(f"Task/{task['id']}", {**task, "status": "received"}, "1")
    assert other.status == 404
    cancelled = world.practice.put(
        f"Task/{task['id']}",
        {**task, "status": "cancelled", "statusReason": {"text": "The person moved away"}},
        "1",
    )
    assert cancelled.status == 200
    assert world.provider.get(f"Task/{task['id']}").data["status"] == "cancelled"
    assert world.admin_token.put(f"Task/{task['id']}", task, "2").status == 403
