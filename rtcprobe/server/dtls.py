"""The target's DTLS certificate and cipher suites: clients that only offer RSA suites connect.

aiortc makes an ECDSA (P-256) certificate per RTCPeerConnection and offers only ECDHE-ECDSA suites
(aiortc.rtcdtlstransport.RTCCertificate._create_ssl_context). A client with an RSA certificate
and RSA suites only — GStreamer's webrtcbin (simple-whip-client) — then fails with "no shared
cipher". Who picks the suite is the DTLS server:

- the target as DTLS client (a=setup:active, what aiortc answers to actpass): it offers the
  ECDHE-RSA suites too, so an RSA-only server picks one; the target's own certificate (ECDSA) only
  signs its CertificateVerify, which the suite does not constrain. That is the default.
- the target as DTLS server (a=setup:passive, e.g. `--answer-profile openai-2025-09`): the suite
  must match the target's certificate, so an RSA-only client needs `--dtls-cert rsa`. An RSA
  certificate cannot serve a client that offers only ECDHE-ECDSA suites (aiortc's own): one
  certificate per session, because the SDP fingerprint names one certificate and aiortc checks
  that every fingerprint matches.
"""

from __future__ import annotations

import functools

from aiortc import RTCPeerConnection
from aiortc.rtcdtlstransport import RTCCertificate, generate_certificate
from cryptography.hazmat.primitives.asymmetric import rsa
from OpenSSL import SSL

DTLS_CERTS = ("ecdsa", "rsa")
#: aiortc's own list, then suites for RSA certificates (forward-secret first, then plain RSA key
#: exchange, which older RSA-only stacks still offer).
ECDSA_SUITES = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA:"
                "ECDHE-ECDSA-AES256-SHA")
RSA_SUITES = ("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"
              "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:AES128-GCM-SHA256:AES128-SHA:AES256-SHA")
RSA_BITS = 2048


class TargetCertificate(RTCCertificate):
    """aiortc's certificate with a cipher list that serves ECDSA and RSA peers."""

    suites = f"{ECDSA_SUITES}:{RSA_SUITES}"

    def _create_ssl_context(self, srtp_profiles: list) -> SSL.Context:  # type: ignore[override]
        ctx = super()._create_ssl_context(srtp_profiles)
        ctx.set_cipher_list(self.suites.encode())
        return ctx


@functools.lru_cache(maxsize=1)
def _rsa_certificate() -> TargetCertificate:
    """One RSA certificate per process, as a service keeps one (2048-bit keys take ~0.1 s to make)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    return TargetCertificate(key=key, cert=generate_certificate(key))  # type: ignore[arg-type]


def install_certificate(pc: RTCPeerConnection, kind: str) -> None:
    """Give `pc` the target's certificate before any transport exists. aiortc has no API for it
    (RTCConfiguration has no certificates), so this sets the one private list it reads."""
    attribute = "_RTCPeerConnection__certificates"
    if not isinstance(getattr(pc, attribute, None), list):
        raise RuntimeError("aiortc changed: RTCPeerConnection keeps no certificate list to replace")
    certificate = _rsa_certificate() if kind == "rsa" else TargetCertificate.generateCertificate()
    setattr(pc, attribute, [certificate])
