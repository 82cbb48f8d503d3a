"""The impairment SPEC grammar, the named presets and schedules: text in, plain data out.

SPEC is a comma list of items, applied left to right (a later item overrides an earlier one):

- ``KEY=VALUE`` sets a knob in both directions; ``up:KEY=VALUE`` / ``down:KEY=VALUE`` in one
  ("up" is what the probe sends, "down" what it receives);
- a preset name (``3g``, ``edge``, ``lte``, ``dsl``, ``wifi``, ``verybad``) sets both directions as
  pion's NetworkConditioner does; ``none`` clears everything;
- ``at=DURATION`` (schedule entries only): from when, on the capture clock, this SPEC holds.

Knobs: ``loss=5%``, ``burst=3`` (mean loss-burst length in packets: Gilbert-Elliott, see
rtcprobe.net.impair), ``delay=40ms``, ``jitter=10ms``, ``reorder=1%``, ``duplicate=1%``,
``rate=500kbit`` (bit, kbit, mbit, gbit; 1 kbit = 1000 bit/s, as tc) and ``queue=30kB`` (the
rate queue's size in bytes: B, kB, MB; default from rtcprobe.net.impair.default_queue_bytes).
``rtploss=5%`` drops that fraction of RTP datagrams only (STUN, DTLS and RTCP pass): what
`serve --loss-percent` always did, so that NACK/RTX feedback stays observable under loss.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path

from .. import limits

UP, DOWN = "up", "down"
DIRECTIONS = (UP, DOWN)


class SpecError(ValueError):
    """A SPEC that cannot be applied; the message names the bad item."""


@dataclass(frozen=True)
class Conditions:
    """One direction's network. Zero means "off" for every knob; `rate` 0 is unlimited."""

    loss: float = 0.0  # fraction 0..1
    burst: float = 0.0  # mean loss-burst length (packets); 0: independent (Bernoulli) loss
    delay: float = 0.0  # seconds
    jitter: float = 0.0  # seconds, uniform within ±jitter around delay (as netem without a table)
    reorder: float = 0.0  # fraction of packets that skip the delay
    duplicate: float = 0.0  # fraction of packets sent twice
    rate: float = 0.0  # bits per second; 0 = unlimited
    queue: int = 0  # rate queue bytes; 0 = the default for `rate` and `delay`
    rtploss: float = 0.0  # fraction 0..1 of RTP datagrams only (independent; `burst` shapes `loss` alone)

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def to_event(self) -> dict[str, float | int]:
        """Fields of an `impairment` change event: loss etc. in %, times in ms, rate in bit/s."""
        return {"loss_pct": self.loss * 100, "burst": self.burst, "delay_ms": self.delay * 1000,
                "jitter_ms": self.jitter * 1000, "reorder_pct": self.reorder * 100,
                "duplicate_pct": self.duplicate * 100, "rate_bps": self.rate, "queue_bytes": self.queue,
                "rtploss_pct": self.rtploss * 100}


@dataclass(frozen=True)
class NetworkSpec:
    """Both directions; `text` is what the user wrote (kept for the capture)."""

    up: Conditions = field(default_factory=Conditions)
    down: Conditions = field(default_factory=Conditions)
    text: str = "none"

    @property
    def active(self) -> bool:
        return self.up.active or self.down.active

    def direction(self, name: str) -> Conditions:
        return self.up if name == UP else self.down


@dataclass(frozen=True)
class ScheduledSpec:
    """`spec` holds from `at` seconds on the capture clock until the next entry."""

    at: float
    spec: NetworkSpec


#: pion/transport vnet/network_conditioner_presets.go (commit 2dfbb94): per direction bandwidth
#: (its "Kbps", taken as kbit/s as the values are Apple's Network Link Conditioner profiles),
#: latency and loss. Kept as SPEC text so that the README table and the code are the same fact.
PRESETS: dict[str, str] = {
    "3g": "up:rate=330kbit,up:delay=100ms,down:rate=780kbit,down:delay=100ms",
    "dsl": "up:rate=256kbit,up:delay=5ms,down:rate=2000kbit,down:delay=5ms",
    "edge": "up:rate=200kbit,up:delay=440ms,down:rate=240kbit,down:delay=400ms",
    "lte": "up:rate=10000kbit,up:delay=65ms,down:rate=50000kbit,down:delay=50ms",
    "verybad": "rate=1000kbit,delay=500ms,loss=10%",
    "wifi": "up:rate=33000kbit,up:delay=1ms,down:rate=40000kbit,down:delay=1ms",
}

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}
_RATE_UNITS = {"bit": 1.0, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9}
_BYTE_UNITS = {"b": 1, "kb": 1000, "mb": 1000 * 1000}
KNOBS = ("loss", "burst", "delay", "jitter", "reorder", "duplicate", "rate", "queue", "rtploss")


def _percent(key: str, value: str) -> float:
    match = re.fullmatch(_NUMBER + r"%", value)
    if not match:
        raise SpecError(f"{key}={value}: expected a percentage such as {key}=5%")
    percent = float(match.group(1))
    if percent > 100:
        raise SpecError(f"{key}={value}: a percentage is at most 100%")
    return percent / 100


def parse_duration(key: str, value: str) -> float:
    """`40ms`, `1.5s`, `250us` -> seconds; a sign, a bare number or another unit is an error."""
    match = re.fullmatch(_NUMBER + r"(us|ms|s)", value.strip())
    if not match:
        raise SpecError(f"{key}={value}: expected a duration such as 40ms or 1.5s (us, ms, s; not negative)")
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)]


def _delay(key: str, value: str) -> float:
    seconds = parse_duration(key, value)
    if seconds > limits.IMPAIR_MAX_DELAY:
        raise SpecError(f"{key}={value}: at most {limits.IMPAIR_MAX_DELAY:g}s")
    return seconds


def _rate(key: str, value: str) -> float:
    match = re.fullmatch(_NUMBER + r"(bit|kbit|mbit|gbit)", value.lower())
    if not match or float(match.group(1)) == 0:
        raise SpecError(f"{key}={value}: expected a rate above 0 such as 500kbit (bit, kbit, mbit, gbit)")
    return float(match.group(1)) * _RATE_UNITS[match.group(2)]


def _bytes(key: str, value: str) -> int:
    match = re.fullmatch(_NUMBER + r"(b|kb|mb)", value.lower())
    if not match or float(match.group(1)) * _BYTE_UNITS[match.group(2)] < limits.IMPAIR_MIN_QUEUE_BYTES:
        raise SpecError(f"{key}={value}: expected a size of at least {limits.IMPAIR_MIN_QUEUE_BYTES} bytes "
                        "such as 30kB (B, kB, MB)")
    return int(float(match.group(1)) * _BYTE_UNITS[match.group(2)])


def _burst(key: str, value: str) -> float:
    match = re.fullmatch(_NUMBER, value)
    if not match or float(value) < 1:
        raise SpecError(f"{key}={value}: expected a mean burst length of at least 1 (packets), such as burst=3")
    return float(value)


_PARSERS = {"loss": _percent, "rtploss": _percent, "reorder": _percent, "duplicate": _percent, "delay": _delay,
            "jitter": _delay, "rate": _rate, "queue": _bytes, "burst": _burst}


def _check(name: str, c: Conditions) -> None:
    """What the knobs cannot mean together."""
    where = "" if name == "" else f"{name}:"
    if c.burst and c.loss:
        most = c.burst / (c.burst + 1)
        if c.loss >= most:
            raise SpecError(f"{where}loss={c.loss * 100:g}% with {where}burst={c.burst:g}: a Gilbert-Elliott "
                            f"model with that mean burst holds below {most * 100:.4g}% loss")
    if c.reorder and not c.delay:
        raise SpecError(f"{where}reorder={c.reorder * 100:g}% needs {where}delay: a reordered packet is one "
                        "that skips the delay the others wait")


def parse_spec(text: str, *, allow_at: bool = False) -> tuple[NetworkSpec, float | None]:
    """A SPEC -> (the network, its `at=` time or None). Raises SpecError naming the bad item."""
    values: dict[str, dict[str, float | int]] = {UP: {}, DOWN: {}}
    at: float | None = None
    items = [item.strip() for item in text.split(",")]
    if not text.strip():
        raise SpecError("empty SPEC: expected knobs such as loss=5%,delay=40ms, a preset or none")
    for item in items:
        if not item:
            raise SpecError(f"{text!r}: an empty item (two commas, or a trailing comma)")
        direction, _, rest = item.partition(":") if ":" in item else ("", "", item)
        if direction and direction not in DIRECTIONS:
            raise SpecError(f"{item}: unknown direction {direction!r} (up: or down:)")
        key, sep, value = rest.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            if direction:
                raise SpecError(f"{item}: up:/down: take a knob (KEY=VALUE); a preset sets both directions")
            if key == "none":
                values = {UP: {}, DOWN: {}}
            elif key in PRESETS:
                preset, _ = parse_spec(PRESETS[key])
                values = {UP: _as_dict(preset.up), DOWN: _as_dict(preset.down)}
            else:
                raise SpecError(f"{item}: unknown preset (one of {', '.join(sorted(PRESETS))}, or none) "
                                f"and not KEY=VALUE")
            continue
        if key == "at" and not direction:
            if not allow_at:
                raise SpecError(f"{item}: at= belongs in a schedule entry")
            at = parse_duration(key, value)
            continue
        if key not in _PARSERS:
            raise SpecError(f"{item}: unknown key {key!r} (one of {', '.join(KNOBS)}, at)")
        parsed = _PARSERS[key](key, value)
        for name in (direction,) if direction else DIRECTIONS:
            values[name][key] = parsed
    up, down = Conditions(**values[UP]), Conditions(**values[DOWN])  # type: ignore[arg-type]
    if up == down:
        _check("", up)
    else:
        _check(UP, up)
        _check(DOWN, down)
    return NetworkSpec(up=up, down=down, text=text.strip()), at


def _as_dict(c: Conditions) -> dict[str, float | int]:
    return {f.name: getattr(c, f.name) for f in fields(c) if getattr(c, f.name)}


def parse_impair_options(specs: list[str]) -> list[ScheduledSpec]:
    """Repeated `--impair`: one without at= holds from the start, others from their at=."""
    entries: list[ScheduledSpec] = []
    for text in specs:
        try:
            spec, at = parse_spec(text, allow_at=True)
        except SpecError as exc:
            raise SpecError(f"--impair {text!r}: {exc}") from None
        entries.append(ScheduledSpec(0.0 if at is None else at, spec))
    return _ordered(entries, "--impair")


def parse_schedule(text: str, source: str) -> list[ScheduledSpec]:
    """A schedule file: one `TIME SPEC` per line (`10s rate=300kbit`), `#` comments, blank lines.
    Raises SpecError with `source:line:` in front."""
    entries: list[ScheduledSpec] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        when, _, spec_text = line.partition(" ")
        try:
            at = parse_duration("time", when)
            spec, _ = parse_spec(spec_text.strip(), allow_at=False)
        except SpecError as exc:
            raise SpecError(f"{source}:{number}: {exc} (expected a line such as: 10s rate=300kbit)") from None
        entries.append(ScheduledSpec(at, spec))
    if not entries:
        raise SpecError(f"{source}: no schedule entries (expected lines such as: 10s rate=300kbit)")
    return _ordered(entries, source)


def _ordered(entries: list[ScheduledSpec], source: str) -> list[ScheduledSpec]:
    entries = sorted(entries, key=lambda e: e.at)
    for a, b in zip(entries, entries[1:], strict=False):
        if a.at == b.at:
            raise SpecError(f"{source}: two entries for t={a.at:g}s")
    return entries


def read_schedule(path: str | Path) -> list[ScheduledSpec]:
    """`--impair-schedule FILE`, through the one input guard."""
    from ..errors import read_text_file

    return parse_schedule(read_text_file(path, "a schedule: lines such as 10s rate=300kbit"), str(path))
