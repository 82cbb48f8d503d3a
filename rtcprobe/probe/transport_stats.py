"""W3C `transport`, `candidate-pair` and candidate stats of one aiortc DTLS transport.

aiortc's getStats() gives a transport's packet and byte counts only. The rest is there to read:
the selected (nominated) pair in aioice, and the negotiated ciphers in the DTLS SSL object. The
ICE round-trip time is not measured by aioice, so `measure_ice_rtt` measures it with one STUN
binding request on the selected pair, the same request a consent check (RFC 7675) sends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aioice import stun
from aiortc.rtcdtlstransport import RTCDtlsTransport

logger = logging.getLogger(__name__)

#: OpenSSL SRTP profile names -> the "Profile" column of IANA's DTLS-SRTP protection profile
#: registry, which W3C `srtpCipher` uses (RFC 5764, RFC 7714), as Chromium reports them. Not the
#: SDES crypto-suite names (`AES_CM_128_HMAC_SHA1_80`, RFC 4568): those are `a=crypto` spellings.
SRTP_CIPHERS = {
    "SRTP_AES128_CM_SHA1_80": "SRTP_AES128_CM_HMAC_SHA1_80",
    "SRTP_AES128_CM_SHA1_32": "SRTP_AES128_CM_HMAC_SHA1_32",
    "SRTP_AEAD_AES_128_GCM": "SRTP_AEAD_AES_128_GCM",
    "SRTP_AEAD_AES_256_GCM": "SRTP_AEAD_AES_256_GCM",
}

#: OpenSSL cipher names -> IANA names, for the suites aiortc offers (TLS 1.3 names already are).
DTLS_CIPHERS = {
    "ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "ECDHE-ECDSA-AES128-SHA": "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "ECDHE-ECDSA-AES256-SHA": "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
}


def selected_pair(transport: RTCDtlsTransport) -> Any | None:
    """aioice's nominated pair for RTP (component 1), or None before ICE completes."""
    connection = getattr(transport.transport, "_connection", None)
    nominated = getattr(connection, "_nominated", None) or {}
    return nominated.get(1)


def _tls_facts(transport: RTCDtlsTransport) -> dict[str, Any]:
    ssl = getattr(transport, "_ssl", None)
    if ssl is None or transport.state not in ("connected", "closed"):
        return {}
    facts: dict[str, Any] = {}
    try:
        profile = ssl.get_selected_srtp_profile()
        if profile:
            name = profile.decode()
            facts["srtpCipher"] = SRTP_CIPHERS.get(name, name)
        cipher = ssl.get_cipher_name()
        if cipher:
            facts["dtlsCipher"] = DTLS_CIPHERS.get(cipher, cipher)
        version = ssl.get_protocol_version()
        if version:
            facts["tlsVersion"] = f"{version:04X}"  # W3C: upper-case hex, "FEFD" is DTLS 1.2
    except Exception as exc:  # a closed SSL object may refuse; the stats are then just shorter
        logger.debug("DTLS facts unavailable: %s", exc)
    return facts


def _candidate(candidate: Any, kind: str, cid: str, tid: str, now: float) -> dict[str, Any]:
    report = {
        "id": cid, "type": kind, "timestamp": now, "transportId": tid,
        "address": candidate.host, "port": candidate.port, "protocol": candidate.transport.lower(),
        "candidateType": candidate.type, "priority": candidate.priority,
        "foundation": candidate.foundation,
    }
    if candidate.related_address is not None:
        report["relatedAddress"] = candidate.related_address
        report["relatedPort"] = candidate.related_port
    if candidate.tcptype:
        report["tcpType"] = candidate.tcptype
    return report


def transport_reports(transport: RTCDtlsTransport, tid: str, now: float,
                      ice_rtt: float | None = None, remb: int | None = None) -> list[dict[str, Any]]:
    """`transport`, and when ICE has selected a pair, `candidate-pair` and both candidates.
    `remb`: the peer's last REMB estimate, as the rtcprobe (non-W3C) `remoteEstimatedBitrate`."""
    counts = next(iter(transport._get_stats().values()))
    ice = transport.transport
    report: dict[str, Any] = {
        "id": tid, "type": "transport", "timestamp": now,
        "packetsSent": counts.packetsSent, "packetsReceived": counts.packetsReceived,
        "bytesSent": counts.bytesSent, "bytesReceived": counts.bytesReceived,
        "dtlsState": transport.state, "iceRole": ice.role, "iceState": ice.state,
    }
    if getattr(transport, "_role", "auto") in ("client", "server"):
        report["dtlsRole"] = transport._role
    report.update(_tls_facts(transport))
    reports = [report]
    pair = selected_pair(transport)
    if pair is None:
        return reports
    local, remote = pair.local_candidate, pair.remote_candidate
    local_id = f"{tid}-local-{local.foundation}-{local.port}"
    remote_id = f"{tid}-remote-{remote.foundation}-{remote.port}"
    pair_id = f"{tid}-pair-{local.foundation}-{local.port}-{remote.foundation}-{remote.port}"
    report["selectedCandidatePairId"] = pair_id
    candidate_pair: dict[str, Any] = {
        "id": pair_id, "type": "candidate-pair", "timestamp": now, "transportId": tid,
        "localCandidateId": local_id, "remoteCandidateId": remote_id,
        "state": pair.state.name.lower().replace("_", "-"), "nominated": bool(pair.nominated),
        # every datagram of the transport goes over its one selected pair
        "packetsSent": counts.packetsSent, "packetsReceived": counts.packetsReceived,
        "bytesSent": counts.bytesSent, "bytesReceived": counts.bytesReceived,
    }
    if ice_rtt is not None:
        candidate_pair["currentRoundTripTime"] = ice_rtt
    if remb is not None:
        candidate_pair["remoteEstimatedBitrate"] = remb
    reports += [candidate_pair, _candidate(local, "local-candidate", local_id, tid, now),
                _candidate(remote, "remote-candidate", remote_id, tid, now)]
    return reports


async def measure_ice_rtt(transport: RTCDtlsTransport, timeout: float = 1.0) -> float | None:
    """Seconds for one STUN binding transaction on the selected pair; None if none answered."""
    connection = getattr(transport.transport, "_connection", None)
    pair = selected_pair(transport)
    if pair is None or connection is None or connection.remote_password is None:
        return None
    request = connection.build_request(pair, nominate=False)
    start = time.monotonic()
    try:
        await asyncio.wait_for(pair.protocol.request(
            request, pair.remote_addr, integrity_key=connection.remote_password.encode("utf8"),
            retransmissions=0), timeout)
    except (stun.TransactionError, TimeoutError, ConnectionError, OSError) as exc:
        logger.debug("ICE RTT probe failed: %r", exc)
        return None
    return time.monotonic() - start
