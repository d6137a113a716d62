"""JSON Patch (RFC 6902), as FHIR's patch interaction takes it: the operations add, remove,
replace, move, copy and test, applied in order to a copy of the resource; any failure
leaves the resource as it was and names the operation (400)."""

from __future__ import annotations

import copy
from typing import Any

from healthequity.fhir_api.exceptions import invalid

Document = Any


def _tokens(pointer: object, where: str) -> list[str]:
    if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
        raise invalid(f"{where}: a JSON Pointer starts with '/', got {pointer!r}", where)
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]


def _index(container: list[Any], part: str, where: str, *, appending: bool) -> int:
    if appending and part == "-":
        return len(container)
    if not part.isdigit() or (len(part) > 1 and part.startswith("0")):
        raise invalid(f"{where}: {part!r} is not an array index", where)
    index = int(part)
    if index > len(container) or (index == len(container) and not appending):
        raise invalid(f"{where}: index {index} is past the end of the array", where)
    return index


def _parent(document: Document, tokens: list[str], where: str) -> tuple[Any, str]:
    if not tokens:
        raise invalid(f"{where}: the whole resource cannot be the target", where)
    current = document
    for token in tokens[:-1]:
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif isinstance(current, list):
            current = current[_index(current, token, where, appending=False)]
        else:
            raise invalid(f"{where}: the path does not exist ({token!r})", where)
    return current, tokens[-1]


def _get(document: Document, tokens: list[str], where: str) -> Any:
    parent, last = _parent(document, tokens, where)
    if isinstance(parent, dict):
        if last not in parent:
            raise invalid(f"{where}: the path does not exist ({last!r})", where)
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, where, appending=False)]
    raise invalid(f"{where}: the path does not exist ({last!r})", where)


def _add(document: Document, tokens: list[str], value: Any, where: str) -> None:
    parent, last = _parent(document, tokens, where)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, where, appending=True), value)
    else:
        raise invalid(f"{where}: cannot add inside a {type(parent).__name__}", where)


def _remove(document: Document, tokens: list[str], where: str) -> Any:
    value = _get(document, tokens, where)
    parent, last = _parent(document, tokens, where)
    if isinstance(parent, dict):
        del parent[last]
    else:
        del parent[int(last)]
    return value


def apply_patch(resource: dict[str, Any], operations: list[Any]) -> dict[str, Any]:
    """The resource with the operations applied (the argument is left as it was)."""
    document = copy.deepcopy(resource)
    for number, operation in enumerate(operations):
        where = f"patch[{number}]"
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise invalid(f"{where}: an operation is an object with 'op' and 'path'", where)
        op, tokens = operation["op"], _tokens(operation["path"], where)
        if op in ("add", "replace", "test") and "value" not in operation:
            raise invalid(f"{where}: {op} needs a 'value'", where)
        if op == "add":
            _add(document, tokens, copy.deepcopy(operation["value"]), where)
        elif op == "remove":
            _remove(document, tokens, where)
        elif op == "replace":
            _get(document, tokens, where)
            _remove(document, tokens, where)
            _add(document, tokens, copy.deepcopy(operation["value"]), where)
        elif op in ("move", "copy"):
            source = _tokens(operation.get("from"), where)
            value = (
                _remove(document, source, where)
                if op == "move"
                else copy.deepcopy(_get(document, source, where))
            )
            _add(document, tokens, value, where)
        elif op == "test":
            if _get(document, tokens, where) != operation["value"]:
                raise invalid(
                    f"{where}: test failed: {operation['path']} is not {operation['value']!r}",
                    where,
                    code="conflict",
                )
        else:
            raise invalid(
                f"{where}: op {op!r}: expected add, remove, replace, move, copy or test", where
            )
    return document
