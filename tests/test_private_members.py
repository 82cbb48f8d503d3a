"""Every private member of aiortc and aioice that rtcprobe reads, wraps or replaces, in one place.

pyproject bounds aiortc and aioice to the minor releases tested (`aiortc<1.17`, `aioice<0.14`);
before raising a bound, run this file against the new release: a member renamed or removed fails
here, by name, instead of as a wrong number or an AttributeError deep in a session.
Instance attributes are checked on real objects (a peer connection with one transceiver and a
data channel, and an aioice Connection), class members on the class.
"""

from __future__ import annotations

import inspect

import aioice.ice
import aiortc
import pytest
from aiortc.rtcdtlstransport import RTCCertificate, RTCDtlsTransport
from aiortc.rtcicetransport import RTCIceGatherer, RTCIceTransport
from aiortc.rtcrtpsender import RTCRtpSender

#: (class, member, who relies on it) for methods on the class: wrapped, called or overridden
METHODS = [
    (RTCDtlsTransport, "_handle_rtp_data", "probe/taps.py wraps it: every received RTP packet"),
    (RTCDtlsTransport, "_handle_rtcp_data", "probe/taps.py wraps it: every received RTCP packet"),
    (RTCDtlsTransport, "_send_rtp", "probe/taps.py wraps it; probe/twcc.py sends feedback through it"),
    (RTCDtlsTransport, "_get_stats", "probe/transport_stats.py: the transport's byte and packet counts"),
    (RTCDtlsTransport, "_set_role", "server/peer.py: the target's DTLS role"),
    (RTCCertificate, "_create_ssl_context", "server/dtls.py overrides it: cipher list for RSA peers"),
    (aioice.ice.Connection, "request_received", "probe/loopback.py replaces it: loopback-only checks"),
]

#: module-level functions rtcprobe replaces (public names, but not an API: patched, not called)
FUNCTIONS = [
    (aioice.ice, "get_host_addresses", "probe/loopback.py: gathers loopback addresses only"),
    (aioice.ice, "relayed_candidate", "probe/ice_servers.py: records each TURN allocation"),
]

#: (object name, attribute, expected type or None for "any value", who relies on it)
ATTRIBUTES = [
    ("dtls", "_role", str, "probe/transport_stats.py: dtlsRole"),
    ("dtls", "_ssl", type(None), "probe/transport_stats.py: SRTP and DTLS cipher names (set at start)"),
    ("ice_transport", "_connection", aioice.ice.Connection, "probe/connect.py, pairs.py, transport_stats.py"),
    ("gatherer", "_connection", aioice.ice.Connection, "net/seam.py wraps its protocols"),
    ("connection", "_protocols", list, "net/seam.py, probe/arrivals.py: every socket of the ICE agent"),
    ("connection", "_nominated", dict, "probe/pairs.py replaces it; transport_stats.py: the selected pair"),
    ("connection", "_check_list", list, "probe/diagnose.py: the pairs ICE tried"),
    ("sender", "_ssrc", int, "probe/twcc.py, probe/voice_observer.py, server/voice_agent.py"),
    ("sender", "_rtx_ssrc", int, "probe/twcc.py: the RTX stream's SSRC"),
    ("sender", "_RTCRtpSender__encoder", type(None), "probe/twcc.py: the encoder whose bitrate BWE sets"),
    ("transceiver", "_codecs", list, "probe/voice_observer.py, server/voice_agent.py: negotiated codecs"),
    ("pc", "_RTCPeerConnection__certificates", list, "server/dtls.py replaces the certificate list"),
]


@pytest.mark.parametrize("cls,name,why", METHODS, ids=[f"{c.__name__}.{n}" for c, n, _ in METHODS])
def test_private_method_exists(cls: type, name: str, why: str) -> None:
    member = inspect.getattr_static(cls, name, None)
    assert member is not None, f"{cls.__module__}.{cls.__name__}.{name} is gone ({why})"
    assert callable(member), f"{cls.__name__}.{name} is no longer a method ({why})"


@pytest.mark.parametrize("module,name,why", FUNCTIONS, ids=[n for _, n, _ in FUNCTIONS])
def test_patched_function_exists(module: object, name: str, why: str) -> None:
    assert inspect.isfunction(getattr(module, name, None)), f"{module.__name__}.{name} is gone ({why})"


async def test_private_attributes_of_live_objects() -> None:
    pc = aiortc.RTCPeerConnection()
    try:
        transceiver = pc.addTransceiver("audio")
        pc.createDataChannel("probe")
        dtls = transceiver.sender.transport
        assert isinstance(dtls, RTCDtlsTransport) and isinstance(transceiver.sender, RTCRtpSender)
        ice_transport = dtls.transport
        assert isinstance(ice_transport, RTCIceTransport) and isinstance(ice_transport.iceGatherer, RTCIceGatherer)
        objects = {"pc": pc, "transceiver": transceiver, "sender": transceiver.sender, "dtls": dtls,
                   "ice_transport": ice_transport, "gatherer": ice_transport.iceGatherer,
                   "connection": ice_transport._connection}
        missing = []
        for owner, name, kind, why in ATTRIBUTES:
            value = getattr(objects[owner], name, AttributeError)
            if value is AttributeError or not isinstance(value, kind):
                missing.append(f"{type(objects[owner]).__name__}.{name}: expected {kind.__name__}, "
                               f"found {type(value).__name__} ({why})")
        assert not missing, "\n".join(missing)
    finally:
        await pc.close()


def test_bounds_in_pyproject_cover_the_installed_releases() -> None:
    """The installed aiortc/aioice are inside the bounds this file was checked against."""
    import tomllib
    from importlib.metadata import version
    from pathlib import Path

    from packaging.requirements import Requirement

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    requirements = {Requirement(r).name: Requirement(r) for r in project["dependencies"]}
    for name in ("aiortc", "aioice"):
        spec = requirements[name].specifier
        assert any(s.operator == "<" for s in spec), f"{name} has no upper bound"
        assert spec.contains(version(name)), f"installed {name} {version(name)} is outside {spec}"
    assert requirements["aiohttp"].specifier.contains("3.11.0") and not requirements["aiohttp"].specifier.contains("3.10.11")
