"""JSON Patch (RFC 6902) as the Task patch interaction applies it."""

from __future__ import annotations

from typing import Any

import pytest

from healthequity.fhir_api.exceptions import FhirError
from healthequity.fhir_api.patch import apply_patch

TASK: dict[str, Any] = {
    "resourceType": "Task",
    "status": "accepted",
    "statusReason": {"text": "We will call on Monday"},
    "output": [{"valueString": "a"}],
    "a/b": {"~c": 1},
}


def test_operations_apply_in_order_to_a_copy() -> None:
    patched = apply_patch(
        TASK,
        [
            {"op": "test", "path": "/status", "value": "accepted"},
            {"op": "replace", "path": "/status", "value": "in-progress"},
            {"op": "remove", "path": "/statusReason"},
            {"op": "add", "path": "/output/-", "value": {"valueString": "b"}},
            {"op": "add", "path": "/output/0", "value": {"valueString": "first"}},
            {"op": "copy", "from": "/output/1", "path": "/note"},
            {"op": "move", "from": "/a~1b/~0c", "path": "/moved"},
        ],
    )
    assert patched["status"] == "in-progress"
    assert "statusReason" not in patched
    assert [output["valueString"] for output in patched["output"]] == ["first", "a", "b"]
    assert patched["note"] == {"valueString": "a"}
    assert patched["moved"] == 1
    assert patched["a/b"] == {}
    assert TASK["status"] == "accepted"
    assert TASK["a/b"] == {"~c": 1}


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        ({"op": "test", "path": "/status", "value": "requested"}, "test failed: /status is not"),
        ({"op": "replace", "path": "/missing", "value": 1}, "the path does not exist"),
        ({"op": "add", "path": "/output/5", "value": 1}, "past the end of the array"),
        ({"op": "remove", "path": "/output/x"}, "'x' is not an array index"),
        ({"op": "replace", "path": "status", "value": 1}, "a JSON Pointer starts with '/'"),
        ({"op": "increment", "path": "/status"}, "op 'increment': expected add, remove"),
        ({"op": "add", "path": "/status"}, "add needs a 'value'"),
        ({"path": "/status"}, "an operation is an object with 'op' and 'path'"),
    ],
)
def test_a_bad_operation_is_refused_naming_it(operation: dict[str, Any], message: str) -> None:
    with pytest.raises(FhirError) as refused:
        apply_patch(TASK, [{"op": "test", "path": "/status", "value": "accepted"}, operation])
    assert refused.value.status_code == 400
    assert refused.value.issues[0].expression == "patch[1]"
    assert message in refused.value.issues[0].diagnostics
