"""TURN and ICE policy against a real TURN server: coturn from Debian on 127.0.0.1 with a long-term
credential, and `rtcprobe serve` as the target. With --relay-only the pair ICE sends on is relayed
(over UDP, TCP and TLS to the TURN server); a wrong password or an unreachable server is recorded
as a failed allocation with its STUN error; the credential appears nowhere the probe writes."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from serve_process import RTCPROBE, free_port, serve_process

from rtcprobe import cli
from rtcprobe.capture import load
from rtcprobe.errors import InputError
from rtcprobe.probe.diagnose import diagnose_turn
from rtcprobe.probe.ice_servers import IceConfigError, from_arguments, load_config, parse_url
from rtcprobe.probe.options import ProbeOptions

slow = pytest.mark.slow  # the sessions against coturn; the parsing and error tests are quick
USER, PASSWORD, REALM = "probe-user", "turn-pw-Zq81-secret", "rtcprobe.test"


@dataclass
class Coturn:
    port: int  # UDP and TCP
    tls_port: int
    ca_file: Path  # its self-signed certificate, which the probe trusts through SSL_CERT_FILE
    log: Path


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (IP SAN): TLS to the TURN server is verified."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@contextlib.contextmanager
def running_coturn(directory: Path, *, loopback_peers: bool = True) -> Iterator[Coturn]:
    """coturn on 127.0.0.1 (UDP, TCP, TLS), relaying on 127.0.0.1; to loopback peers only when
    `loopback_peers` (coturn refuses them by default, as a TURN server in the field may)."""
    binary = shutil.which("turnserver")
    if binary is None:
        pytest.skip("coturn's turnserver is not installed (Debian package `coturn`; .ci/run installs it)")
    cert_file, key_file = _certificate(directory)
    port, tls_port = free_port(), free_port()
    log = directory / "turnserver.log"
    command = [binary, "-n", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1",
               "--listening-port", str(port), "--tls-listening-port", str(tls_port),
               "--cert", str(cert_file), "--pkey", str(key_file), "--no-dtls",
               "--min-port", "49152", "--max-port", "65535", "--lt-cred-mech", "--user", f"{USER}:{PASSWORD}",
               "--realm", REALM, "--no-cli", "--no-software-attribute",
               "--userdb", str(directory / "turndb"), "--pidfile", str(directory / "turnserver.pid"),
               "--log-file", "stdout", "--simple-log", *(["--allow-loopback-peers"] if loopback_peers else [])]
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 15
            while True:  # ready once the TCP and TLS listeners accept
                assert proc.poll() is None, log.read_text()[-2000:]
                try:
                    for p in (port, tls_port):
                        socket.create_connection(("127.0.0.1", p), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "turnserver did not start:\n" + log.read_text()[-2000:]
                    time.sleep(0.1)
            yield Coturn(port, tls_port, cert_file, log)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def coturn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Coturn]:
    with running_coturn(tmp_path_factory.mktemp("coturn")) as turn:
        yield turn


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One `rtcprobe serve` on 127.0.0.1 for the module; yields (base URL, its log)."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with serve_process(log) as base:
        yield base, log


def _capture(base: str, tmp_path: Path, coturn: Coturn, *flags: str, name: str = "c") -> tuple[subprocess.CompletedProcess, Path]:
    output = tmp_path / f"{name}.jsonl"
    env = {**os.environ, "SSL_CERT_FILE": str(coturn.ca_file)}
    proc = subprocess.run([*RTCPROBE, "capture", f"{base}/whip", "-o", str(output), "--duration", "1",
                           "--no-live", "--timeout", "ice=8", *flags],
                          capture_output=True, text=True, timeout=90, env=env)
    return proc, output


def _events(path: Path, name: str) -> list[dict]:
    return load(path).of(name)


def _nowhere(secret: str, *blobs: bytes) -> None:
    for blob in blobs:
        assert secret.encode() not in blob


@slow
@pytest.mark.parametrize("url", ["turn:127.0.0.1:{port}", "turn:{user}:{password}@127.0.0.1:{port}?transport=tcp",
                                 "turns:127.0.0.1:{tls_port}"], ids=["udp", "tcp-userinfo", "tls"])
def test_relay_only_connects_through_turn(server: tuple[str, Path], coturn: Coturn, tmp_path: Path, url: str) -> None:
    """Over UDP, TCP and TLS; the TCP one with the credential in the URL, as users paste them
    (it used to land in the capture twice: header options and ice_servers event)."""
    base, serve_log = server
    url = url.format(port=coturn.port, tls_port=coturn.tls_port, user=USER, password=PASSWORD)
    credentials = [] if "@" in url else ["--ice-username", USER, "--ice-credential", PASSWORD]
    proc, output = _capture(base, tmp_path, coturn, "--ice-server", url, *credentials, "--relay-only")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    capture = load(output)
    assert capture.reason == "completed"
    selected = _events(output, "selected_pair")
    assert selected and selected[-1]["local_type"] == "relay", selected
    servers = _events(output, "ice_servers")[0]
    assert servers["applied"] is True and servers["policy"] == "relay"
    carrier = "tls" if url.startswith("turns:") else ("tcp" if "tcp" in url else "udp")
    assert servers["allocations"] and all(a["ok"] and a["carrier"] == carrier for a in servers["allocations"])
    relayed = {a["relayed"] for a in servers["allocations"]}
    assert selected[-1]["local"].removesuffix("/udp") in relayed  # ICE sends from the TURN server's address
    reports = [r for e in _events(output, "stats") for r in e["reports"]]
    pairs = [r for r in reports if r["type"] == "candidate-pair" and r.get("nominated")]
    candidates = {r["id"]: r for r in reports if r["type"] == "local-candidate"}
    assert pairs and {candidates[p["localCandidateId"]]["candidateType"] for p in pairs} == {"relay"}
    local = [e["candidate"] for e in _events(output, "candidate") if e["side"] == "local" and e["candidate"]]
    assert local and all(" typ relay" in c for c in local)  # the relay policy: no host candidate offered
    _nowhere(PASSWORD, output.read_bytes(), proc.stdout.encode(), proc.stderr.encode(), serve_log.read_bytes())
    if carrier == "udp":  # the report of it too (once: it costs seconds)
        report = tmp_path / "r.html"
        subprocess.run([*RTCPROBE, "report", str(output), "-o", str(report)], check=True, capture_output=True,
                       timeout=90)
        _nowhere(PASSWORD, report.read_bytes())


@slow
def test_config_file_and_credential_nowhere(server: tuple[str, Path], coturn: Coturn, tmp_path: Path) -> None:
    """The W3C RTCConfiguration shape from a file: several URLs (aioice uses the first TURN one),
    iceTransportPolicy relay; the capture header and events name the URLs without the credential."""
    base, serve_log = server
    config = tmp_path / "ice.json"
    config.write_text(json.dumps({"iceServers": [
        {"urls": f"stun:127.0.0.1:{coturn.port}"},
        {"urls": [f"turn:127.0.0.1:{coturn.port}?transport=tcp", f"turn:127.0.0.1:{coturn.port}?transport=udp"],
         "username": USER, "credential": PASSWORD}], "iceTransportPolicy": "relay"}))
    proc, output = _capture(base, tmp_path, coturn, "--ice-config", str(config), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    capture = load(output)
    assert capture.header["options"]["ice_transport_policy"] == "relay"
    servers = _events(output, "ice_servers")[0]
    assert [(s["url"], s["used"]) for s in servers["servers"]] == [
        (f"stun:127.0.0.1:{coturn.port}", True), (f"turn:127.0.0.1:{coturn.port}?transport=tcp", True),
        (f"turn:127.0.0.1:{coturn.port}?transport=udp", False)]
    assert all(a["carrier"] == "tcp" for a in servers["allocations"])
    assert _events(output, "selected_pair")[-1]["local_type"] == "relay"
    _nowhere(PASSWORD, output.read_bytes(), proc.stdout.encode(), proc.stderr.encode(), serve_log.read_bytes())


@slow
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_wrong_password_is_a_failed_allocation(server: tuple[str, Path], coturn: Coturn, tmp_path: Path,
                                               transport: str) -> None:
    base, serve_log = server
    wrong = "wrong-pw-Kx42-secret"
    url = f"turn:127.0.0.1:{coturn.port}?transport={transport}"
    proc, output = _capture(base, tmp_path, coturn, "--ice-server", url, "--ice-username", USER,
                            "--ice-credential", wrong, "--relay-only")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    capture = load(output)
    assert capture.reason == "ice"
    servers = _events(output, "ice_servers")[0]
    assert servers["applied"] is False
    assert [(a["ok"], a.get("error_code"), a.get("reason")) for a in servers["allocations"]] == \
        [(False, 401, "Unauthorized")] * len(servers["allocations"])
    assert url in capture.diagnosis and "401 Unauthorized" in capture.diagnosis
    assert "refused the username or credential" in capture.diagnosis and "--relay-only" in capture.diagnosis
    assert "401 Unauthorized" in proc.stdout  # the summary says it too
    assert not _events(output, "http")  # no candidate to offer: the target was not bothered
    _nowhere(wrong, output.read_bytes(), proc.stdout.encode(), proc.stderr.encode(), serve_log.read_bytes())


@slow
def test_failed_allocation_without_relay_only_is_a_warning(server: tuple[str, Path], coturn: Coturn,
                                                           tmp_path: Path) -> None:
    """Without the relay policy the session runs on host candidates, and says the TURN server refused."""
    base, _ = server
    proc, output = _capture(base, tmp_path, coturn, "--ice-server", f"turn:127.0.0.1:{coturn.port}",
                            "--ice-username", USER, "--ice-credential", "wrong-pw-Kx42-secret")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    capture = load(output)
    assert capture.reason == "completed"
    assert _events(output, "ice_servers")[0]["applied"] is False
    assert any("401 Unauthorized" in w for w in _events(output, "end")[0]["warnings"])
    assert _events(output, "selected_pair")[-1]["local_type"] == "host"


@slow
def test_unreachable_turn_server(server: tuple[str, Path], coturn: Coturn, tmp_path: Path) -> None:
    base, _ = server
    closed = free_port()
    proc, output = _capture(base, tmp_path, coturn, "--ice-server", f"turn:127.0.0.1:{closed}?transport=tcp",
                            "--ice-username", USER, "--ice-credential", PASSWORD, "--relay-only")
    assert proc.returncode == 1
    capture = load(output)
    assert capture.reason == "ice"
    assert f"turn:127.0.0.1:{closed}?transport=tcp" in capture.diagnosis
    assert "connection refused" in capture.diagnosis


@slow
@slow
def test_turn_server_that_will_not_relay_to_the_target(server: tuple[str, Path], tmp_path: Path) -> None:
    """Allocated, but the TURN server refuses a channel to the target's (loopback) address: the ICE
    diagnosis names the refusal, which aioice only logs."""
    base, _ = server
    (tmp_path / "strict").mkdir()
    with running_coturn(tmp_path / "strict", loopback_peers=False) as strict:
        proc, output = _capture(base, tmp_path, strict, "--ice-server", f"turn:127.0.0.1:{strict.port}",
                                "--ice-username", USER, "--ice-credential", PASSWORD, "--relay-only",
                                "--timeout", "ice=3")
    assert proc.returncode == 1
    capture = load(output)
    assert capture.reason == "ice" and _events(output, "ice_servers")[0]["applied"] is True
    assert "the TURN server refused to relay to the target (403 Forbidden IP on a channel binding)" in \
        capture.diagnosis


def test_untrusted_tls_certificate(server: tuple[str, Path], coturn: Coturn, tmp_path: Path) -> None:
    """TURN over TLS verifies the server's certificate; one this host does not trust is named."""
    base, _ = server
    output = tmp_path / "c.jsonl"
    proc = subprocess.run([*RTCPROBE, "capture", f"{base}/whip", "-o", str(output), "--no-live",
                           "--ice-server", f"turns:127.0.0.1:{coturn.tls_port}", "--ice-username", USER,
                           "--ice-credential", PASSWORD, "--relay-only"],
                          capture_output=True, text=True, timeout=90)
    assert proc.returncode == 1
    assert load(output).reason == "ice"
    assert "CERTIFICATE_VERIFY_FAILED" in load(output).diagnosis


# -- parsing, configuration files and usage errors (no session) --------------------------------------

SECRET = "unit-credential-Pq7-secret"


@pytest.mark.parametrize(("given", "url", "carrier"), [
    ("stun:stun.example.test", "stun:stun.example.test:3478", "udp"),
    ("turn:t.example.test", "turn:t.example.test:3478?transport=udp", "udp"),
    ("turn:t.example.test:80?transport=tcp", "turn:t.example.test:80?transport=tcp", "tcp"),
    ("turns:t.example.test:443?transport=tcp", "turns:t.example.test:443?transport=tcp", "tls"),
    ("turns:t.example.test", "turns:t.example.test:5349?transport=tcp", "tls"),
    (f"turn:alice:{SECRET}@t.example.test:3478", "turn:t.example.test:3478?transport=udp", "udp"),
])
def test_urls_aioice_uses(given: str, url: str, carrier: str) -> None:
    parsed, _, credential = parse_url(given)
    assert (parsed.url, parsed.carrier) == (url, carrier)
    assert credential == (SECRET if SECRET in given else None)


@pytest.mark.parametrize(("given", "why"), [
    ("turns:t.example.test?transport=udp", "TURN over DTLS"),
    ("stuns:s.example.test", "STUN over TLS"),
    ("turn:t.example.test?transport=sctp", "transport must be udp or tcp"),
    ("turn:[::1]:3478", "IPv6 literal"),
    ("turn://t.example.test", "no '//'"),
    ("https://t.example.test", "expected a stun:, turn: or turns: URL"),
    (f"turn:alice:{SECRET}", "expected turn:HOST[:PORT]"),  # no host: the password must not be echoed
    (f"turns:alice:{SECRET}@t.example.test?transport=udp", "TURN over DTLS"),
])
def test_urls_aioice_cannot_use(given: str, why: str) -> None:
    with pytest.raises(IceConfigError) as caught:
        parse_url(given)
    assert why in str(caught.value) and SECRET not in str(caught.value)


def test_config_file_shapes(tmp_path: Path) -> None:
    """The W3C shape, the legacy `url` key, `user@` in a URL (normalice's test data has these forms);
    aioice uses the first STUN and the first TURN URL; nothing recorded holds the credential."""
    path = tmp_path / "ice.json"
    path.write_text(json.dumps({"iceServers": [
        {"url": "stun:s.example.test:19302"},
        {"urls": ["turn:alice@t.example.test:80?transport=tcp", "turns:t.example.test:443?transport=tcp"],
         "username": "bob", "credential": SECRET},
        {"urls": "turn:t2.example.test", "username": "carol", "credential": SECRET}],
        "iceTransportPolicy": "relay"}))
    config = from_arguments([], None, None, False, str(path))
    assert config.relay_only
    stun, turn = config.chosen()
    assert stun is not None and turn is not None
    assert (turn.url.url, turn.username, turn.credential) == \
        ("turn:t.example.test:80?transport=tcp", "alice", SECRET)
    rtc = config.rtc_configuration()
    assert [s.urls for s in rtc.iceServers] == ["stun:s.example.test:19302", "turn:t.example.test:80?transport=tcp"]
    assert rtc.iceTransportPolicy.value == "relay"
    assert [r["used"] for r in config.record()] == [True, True, False, False]
    header = ProbeOptions(target="http://127.0.0.1:1/whip", output=tmp_path / "c.jsonl", ice=config).for_header()
    assert SECRET not in json.dumps(header) and SECRET not in json.dumps(config.record())
    assert header["ice_transport_policy"] == "relay" and len(header["ice_servers"]) == 4


@pytest.mark.parametrize(("content", "said"), [
    ('{"iceServers": [', "ice.json:1: invalid JSON"),
    ('["turn:t.example.test"]', "the document: expected a JSON object"),
    ('{"iceServers": [{"urls": 5}]}', "iceServers[0].urls: expected a URL string"),
    (json.dumps({"iceServers": [{"urls": "turn:t", "credential": [SECRET]}]}), "iceServers[0].credential: expected a string"),
    ('{"iceServers": [{"urls": "turn:t", "credentialType": "oauth"}]}', "aioice supports no other"),
    ('{"iceServers": [{"urls": ["stun:s", "turns:t?transport=udp"]}]}', "iceServers[0].urls[1]: ICE server"),
    ('{"iceServers": [], "iceTransportPolicy": "none"}', 'iceTransportPolicy: expected "all" or "relay"'),
])
def test_config_file_errors(tmp_path: Path, content: str, said: str) -> None:
    path = tmp_path / "ice.json"
    path.write_text(content)
    with pytest.raises(InputError) as caught:
        load_config(path)
    assert said in str(caught.value) and SECRET not in str(caught.value)


@pytest.mark.parametrize("argv", [
    ["--ice-credentail", SECRET],  # misspelled: argparse would list it among unrecognized arguments
    ["--ice-credential", SECRET, "--fps", SECRET],  # a secret in a value argparse quotes
    ["--ice-server", f"turn:alice:{SECRET}@t.example.test", "extra-word"],
    [f"--ice-credentail={SECRET}"],
    ["--ice-server", f"turn:alice:{SECRET}"],  # a URL without host: a usage error of rtcprobe's own
    ["--ice-server", "turn:t.example.test", "--ice-credential", SECRET],  # no username
    ["--relay-only", "--ice-credential", SECRET],  # no TURN server
])
def test_usage_errors_never_echo_a_secret(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    try:
        status = cli.main(["capture", "http://127.0.0.1:1/whip", *argv])
    except SystemExit as exc:
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err
    assert "error:" in err and SECRET not in err


def test_diagnose_turn() -> None:
    ok = {"ok": True, "carrier": "udp", "relayed": "192.0.2.1:50000"}
    refused = {"ok": False, "carrier": "tls", "error_code": 486, "reason": "Allocation Quota Reached"}
    assert diagnose_turn("turn:t:3478?transport=udp", True, [ok, ok]) == ""
    assert diagnose_turn("turn:t:3478?transport=udp", True, []) == "no TURN allocation was attempted at turn:t:3478?transport=udp"
    text = diagnose_turn("turns:t:443?transport=tcp", False, [ok, refused])
    assert text == ("1 of 2 TURN allocations failed at turns:t:443?transport=tcp (over tls): 486 Allocation Quota "
                    "Reached: the user's allocation quota on the TURN server is used up")
    assert diagnose_turn("turns:t:443?transport=tcp", True, [refused]).endswith("no candidate to connect with")
