"""The fastest peers of the interop matrix (interop/run.py, `make interop`) on every `make test`:
rtcprobe captures against real third-party stacks — libwebrtc (npm @roamhq/wrtc) on loopback,
werift and libdatachannel (npm node-datachannel) inside a network namespace of the test's own,
since they gather no loopback candidates — and the profile it reads must match what each stack
is known to answer and the answer the stack itself logged. `.ci/run` installs the npm peers."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

INTEROP = Path(__file__).resolve().parent.parent / "interop"
sys.path.insert(0, str(INTEROP))
from netns import Namespace, unavailable_reason  # noqa: E402
from peers import ANSWERERS, Peer, profile_mismatches, sdp_facts  # noqa: E402
from run import run_peer  # noqa: E402

FAST = ("libwebrtc", "werift", "libdatachannel")


def _peer(name: str) -> Peer:
    return next(p for p in ANSWERERS if p.name == name)


def _usable(peer: Peer) -> Peer:
    if shutil.which("node") is None:
        pytest.skip("node is not installed (Debian package nodejs): the npm peers cannot run")
    if reason := peer.missing():
        pytest.fail(f"{reason} — .ci/run installs the npm peers with `npm ci` in interop/")
    if peer.namespace and (reason := unavailable_reason()):
        pytest.skip(f"{peer.name} gathers no loopback candidates and needs a network namespace: {reason}")
    return peer


@pytest.mark.slow
@pytest.mark.parametrize("name", FAST)
def test_capture_against_real_stack(name: str, tmp_path: Path) -> None:
    peer = _usable(_peer(name))
    row = run_peer(peer, tmp_path, with_check=False)
    assert row.capture == "completes", (row.capture, (tmp_path / f"{name}.peer.log").read_text())
    assert row.profile == "right", row.profile
    events = [json.loads(line) for line in (tmp_path / f"{name}.peer.log").read_text().splitlines()
              if line.startswith("{")]
    # the stack itself saw the session connect, and the probe's DELETE closed it
    assert {"id": "1", "connection": "connected"} in events
    assert {"id": "1", "deleted": True} in events
    assert row.seconds is not None and row.seconds > 0
    if peer.namespace:
        assert Namespace().name not in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                                      text=True).stdout, "the namespace was left behind"


def test_profile_comparison_names_each_wrong_fact() -> None:
    """The comparison is not vacuous: a profile that misreads one fact of libdatachannel's real
    answer (tests/data/realworld/sdp/libdatachannel-whip-answer.sdp) is reported for that fact only."""
    answer = (Path(__file__).parent / "data" / "realworld" / "sdp" / "libdatachannel-whip-answer.sdp").read_text()
    witnessed = sdp_facts(answer)
    rows = [
        {"aspect": "ICE/TURN", "facts": {"ice_lite": False, "ice_options": ["ice2", "trickle"]}},
        {"aspect": "SRTP encryption", "facts": {"fingerprint_algorithms": ["sha-256"]}},
        {"aspect": "RTCP", "facts": {"transport_cc": False}},
        {"aspect": "Audio", "facts": {"codecs": ["Opus"], "direction": "recvonly"}},
        {"aspect": "RTP header extensions", "facts": {"by_extension": {}}},
        {"aspect": "PeerConnection", "facts": {"other_groups": [{"semantics": "LS", "mids": ["0"]}]}},
    ]
    assert witnessed[("ICE/TURN", "ice_options")] == ["ice2", "trickle"]
    assert profile_mismatches(_peer("libdatachannel"), rows, answer) == []
    misread = copy.deepcopy(rows)
    misread[0]["facts"]["ice_options"] = ["trickle"]
    wrong = profile_mismatches(_peer("libdatachannel"), misread, answer)
    assert len(wrong) == 2 and all(w.startswith("ICE/TURN.ice_options") for w in wrong), wrong


def test_gstreamer_offer_profile_read_right(tmp_path: Path) -> None:
    """rtcprobe's profile of GStreamer webrtcbin's real WHIP offer
    (tests/data/realworld/sdp/gstreamer-whip-client-offer.sdp) has what webrtcbin is known to offer
    (no BUNDLE, mid audio0, rtcp-rsize, TCP candidates) and agrees with the offer's own text."""
    from clients import CLIENTS, _profile

    offer = (Path(__file__).parent / "data" / "realworld" / "sdp" / "gstreamer-whip-client-offer.sdp").read_text()
    gstreamer = next(c for c in CLIENTS if c.name == "gstreamer-whip-client")
    assert _profile(gstreamer, offer, tmp_path) == "right"
    assert sdp_facts(offer)[("Audio", "direction")] == "sendonly"
