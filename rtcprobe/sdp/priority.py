"""The one ICE candidate priority decoder (RFC 8445 §5.1.2.1).

priority = 2^24 * type preference + 2^8 * local preference + (256 - component ID)
"""

from __future__ import annotations

from dataclasses import dataclass

#: RFC 8445 §5.1.2.2 recommended type preferences.
RECOMMENDED_TYPE_PREFERENCE: dict[str, int] = {"host": 126, "prflx": 110, "srflx": 100, "relay": 0}


@dataclass(frozen=True)
class DecodedPriority:
    """A candidate priority taken apart, with a flag where it departs from the RFC's values."""

    priority: int
    type_preference: int
    local_preference: int
    component: int
    expected_type_preference: int | None
    matches_type: bool
    note: str


def compute_priority(type_preference: int, local_preference: int, component: int) -> int:
    return (type_preference << 24) + (local_preference << 8) + (256 - component)


def decode_priority(
    priority: int,
    candidate_type: str | None = None,
    component: int | None = None,
    transport: str | None = None,
) -> DecodedPriority:
    """Split a 32-bit priority; explain when it does not match the candidate's type or component."""
    type_pref = (priority >> 24) & 0xFF
    local_pref = (priority >> 8) & 0xFFFF
    decoded_component = 256 - (priority & 0xFF)
    expected = RECOMMENDED_TYPE_PREFERENCE.get(candidate_type or "")
    notes: list[str] = []
    matches = expected is None or type_pref == expected
    if expected is not None and type_pref != expected:
        if (transport or "").lower() == "tcp" and type_pref < expected:
            notes.append(
                f"type preference {type_pref}, below the {expected} recommended for {candidate_type}"
                " (RFC 6544 §4.2 lowers it for TCP)"
            )
        else:
            notes.append(
                f"type preference {type_pref} does not match the {expected} recommended for"
                f" {candidate_type} (RFC 8445 §5.1.2.2)"
            )
    if component is not None and decoded_component != component:
        matches = False
        notes.append(f"priority encodes component {decoded_component}, line says {component}")
    return DecodedPriority(
        priority=priority,
        type_preference=type_pref,
        local_preference=local_pref,
        component=decoded_component,
        expected_type_preference=expected,
        matches_type=matches,
        note="; ".join(notes),
    )
