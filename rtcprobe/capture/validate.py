"""Check capture lines against the event vocabulary (rtcprobe.capture.events.VOCABULARY).

A line whose fields do not fit is dropped before any view sees it, with a warning that names the
line and the field: views index and do arithmetic on what the vocabulary promises, so a string
where a number is due would end `report` in a traceback, or worse, in a wrong number.
"""

from __future__ import annotations

import math
from typing import Any

from . import events as ev

_KIND_NAMES = {"str": "a string", "int": "an integer", "number": "a number", "bool": "true or false",
               "null": "null", "list": "a list", "object": "an object", "any": "any value"}


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    return "object" if isinstance(value, dict) else type(value).__name__


#: Integers views can hold: DataFrame columns are 64-bit (real counters and SSRCs are well inside).
INT_RANGE = (-(2**63), 2**63 - 1)


def _fits_kind(value: Any, kinds: tuple[str, ...]) -> bool:
    kind = _kind_of(value)
    if kind == "number" and not math.isfinite(value):  # NaN / Infinity: json takes them, sums do not
        return False
    if kind == "int" and not INT_RANGE[0] <= value <= INT_RANGE[1]:
        return False
    return "any" in kinds or kind in kinds or (kind == "int" and "number" in kinds)


def _expected(shape: ev.Shape) -> str:
    return " or ".join(_KIND_NAMES.get(k, k) for k in shape.kinds)


def check_value(value: Any, shape: ev.Shape, where: str) -> str | None:
    """None when `value` fits `shape`, else what is wrong (naming `where`, a field path).
    Walks without recursion into Python's stack depth: the reader has bounded nesting already."""
    stack: list[tuple[Any, ev.Shape, str]] = [(value, shape, where)]
    while stack:
        item, form, path = stack.pop()
        if not _fits_kind(item, form.kinds):
            what = _KIND_NAMES.get(_kind_of(item), _kind_of(item))
            what = f"{what} beyond 64 bits" if _kind_of(item) == "int" else what
            return f"{path} is {what}, expected {_expected(form)}"
        if form.bounds is not None and isinstance(item, int | float) and not form.bounds[0] <= item <= form.bounds[1]:
            return f"{path} is {item:.6g}, expected {form.bounds[0]:g} to {form.bounds[1]:g}"
        if isinstance(item, str) and form.choices is not None and item not in form.choices:
            return f"{path} is {item[:40]!r}, expected one of {', '.join(form.choices)}"
        if isinstance(item, list) and form.items is not None:
            stack.extend((x, form.items, f"{path}[{i}]") for i, x in enumerate(item))
        elif isinstance(item, dict):
            if form.fields is not None:
                problem = _check_fields(item, form.fields, path)
                if problem:
                    return problem
                stack.extend((item[k], f.shape, f"{path}.{k}") for k, f in form.fields.items() if k in item)
            if form.values is not None:
                stack.extend((v, form.values, f"{path}.{k}") for k, v in item.items())
    return None


def _check_fields(record: dict[str, Any], fields: dict[str, ev.Field], path: str) -> str | None:
    for name, spec in fields.items():
        if spec.required and name not in record:
            return f"{path}{'.' if path else ''}{name} is missing"
    return None


def check_event(record: Any) -> str | None:
    """None when a capture line (after the header) fits the vocabulary, else the first misfit.
    Unknown event names pass with `event` and `t` checked (forward compatibility); unknown fields pass."""
    if not isinstance(record, dict):
        return f"the line is {_KIND_NAMES.get(_kind_of(record), 'a value')}, expected an event object"
    name = record.get("event")
    if not isinstance(name, str):
        return "field 'event' is missing" if name is None else check_value(name, ev.TEXT, "field 'event'")
    if "t" not in record:
        return "field 't' is missing"
    problem = check_value(record["t"], ev.CLOCK, "t")
    if problem:
        return f"field {problem}"
    for field_name, spec in ev.VOCABULARY.get(name, {}).items():
        if field_name not in record:
            if spec.required:
                return f"{name}: field '{field_name}' is missing"
            continue
        problem = check_value(record[field_name], spec.shape, field_name)
        if problem:
            return f"{name}: field {problem}"
    return None


def clean_header(header: dict[str, Any]) -> list[str]:
    """Remove header fields that do not fit (the header must stay); returns what was removed and why."""
    removed = []
    for name, spec in ev.HEADER_FIELDS.items():
        if name in header and not spec.required:
            problem = check_value(header[name], spec.shape, name)
            if problem:
                del header[name]
                removed.append(f"header field {problem}; ignored")
    return removed
