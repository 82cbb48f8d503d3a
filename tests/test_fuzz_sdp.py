"""Mangled SDP never escapes as anything but a result or rtcprobe's own parse error."""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtcprobe.analyze.candidates import candidate_set
from rtcprobe.analyze.diff import diff_descriptions
from rtcprobe.analyze.profile import ProfileRow, profile
from rtcprobe.negotiation import Negotiation
from rtcprobe.sdp import SdpError, parse_description

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
SEEDS = [(CAPTURES / name).read_text() for name in
         ("openai-ga-2025-09-answer.sdp", "openai-api-demo-offer.sdp", "openai-2024-11-candidates.txt")]
LINES = [line for seed in SEEDS for line in seed.splitlines()]


@st.composite
def mangled_sdp(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(SEEDS)).splitlines()
    for _ in range(draw(st.integers(0, 6))):
        action = draw(st.sampled_from(["drop", "dup", "swap", "mutate", "insert", "truncate"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if action == "drop":
            del lines[i]
        elif action == "dup":
            lines.insert(i, lines[i])
        elif action == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif action == "mutate":
            line = lines[i]
            pos = draw(st.integers(0, max(len(line) - 1, 0)))
            lines[i] = line[:pos] + draw(st.text(max_size=4)) + line[pos + 1:]
        elif action == "insert":
            lines.insert(i, draw(st.sampled_from(LINES)) if draw(st.booleans()) else draw(st.text(max_size=30)))
        else:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    return draw(st.sampled_from(["\r\n", "\n"])).join(lines)


def analyze_all(text: str) -> list[ProfileRow]:
    description = parse_description(text, "fuzz.sdp")
    candidate_set(description)
    diff_descriptions(description, parse_description(SEEDS[0]))
    return profile(Negotiation("fuzz.sdp", answer=description)).rows


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled_sdp())
def test_mangled_sdp_gives_result_or_parse_error(text: str) -> None:
    check(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_gives_result_or_parse_error(text: str) -> None:
    check(text)


def check(text: str) -> None:
    """A profile with its rows, or one line of rtcprobe's own error naming the input."""
    try:
        rows = analyze_all(text)
    except SdpError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("fuzz.sdp")
    else:
        assert rows and all(row.summary for row in rows)


HOSTILE_TOKENS = ["-1", "65536", "99999999999999999999", "0", "v=1", "v=0BBBB", "2001:db8::zz", "::", "1.2.3.4.5",
                  "fe80::1%eth0", "[::1]", "\x1b[2J", "", "NaN"]


@st.composite
def hostile_token_sdp(draw: st.DrawFn) -> str:
    """A real SDP with tokens (ports, addresses, versions) replaced by out-of-range or malformed ones."""
    lines = draw(st.sampled_from(SEEDS[:2])).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        tokens = lines[i].split(" ")
        j = draw(st.integers(0, len(tokens) - 1))
        tokens[j] = draw(st.sampled_from(HOSTILE_TOKENS))
        lines[i] = " ".join(tokens)
    return "\r\n".join(lines)


@settings(max_examples=200, deadline=None)
@given(hostile_token_sdp())
def test_hostile_tokens_give_a_valid_model_or_a_parse_error(text: str) -> None:
    """What parses has a version 0 and ports in range; the rest is rtcprobe's one-line error."""
    check(text)
    try:
        description = parse_description(text, "fuzz.sdp")
    except SdpError:
        return
    assert text.lstrip().startswith("v=0\r\n")
    assert all(0 <= m.port <= 65535 for m in description.media)
    assert all(0 <= c.port <= 65535 for c in description.candidates)
    assert all(m.sctp_port is None or 0 <= m.sctp_port <= 65535 for m in description.media)
