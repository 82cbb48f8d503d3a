"""One JSON shape for every `--json` output: dataclasses as plain objects."""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from typing import Any

#: Documents up to this size are indented for people; larger ones are written compact, because
#: Python's json encodes indented output in pure Python (about 25× slower than compact, which the
#: C encoder writes): a 50,000-candidate SDP's analysis is 57 MB of JSON.
INDENT_BELOW_BYTES = 1 << 20

_PLAIN = (str, int, float, bool, type(None))


@cache
def _shape(cls: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A dataclass's field names and the derived flags worth shipping (properties it defines)."""
    fields = tuple(f.name for f in dataclasses.fields(cls))
    flags = tuple(n for n in ("changed", "semantic_change") if isinstance(getattr(cls, n, None), property))
    return fields, flags


def to_jsonable(value: Any) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields, flags = _shape(type(value))
        out = {name: to_jsonable(getattr(value, name)) for name in fields}
        for name in flags:
            out[name] = getattr(value, name)
        return out
    return value


def dumps(value: Any) -> str:
    plain = to_jsonable(value)
    compact = json.dumps(plain, ensure_ascii=False, default=str)
    if len(compact) >= INDENT_BELOW_BYTES:
        return compact
    return json.dumps(plain, indent=2, ensure_ascii=False, default=str)
