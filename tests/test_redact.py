"""The one redaction module (rtcprobe/redact.py): each gap issue 10 found, closed there, with a test
each — signed-URL and cloud credential keys, `user:password@` in text and in a HAR, binary
messages, a token cut by the 4 KiB message truncation, base64 and URL-encoded echoes."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from hostile import run_cli

from rtcprobe.capture import truncate_message
from rtcprobe.capture.writer import MESSAGE_LIMIT
from rtcprobe.redact import (
    REDACTED,
    is_secret_key,
    redact,
    redact_cut,
    redact_text,
    redact_url,
    register_secret,
)
from rtcprobe.signaling.exchange import BODY_EXCERPT_CHARS, excerpt

REALWORLD = Path(__file__).parent / "data" / "realworld" / "sdp"

#: Query keys of signed URLs and cloud credentials, as the services spell them.
SIGNED_URL_KEYS = [
    "jwt", "token", "access_token", "api_key", "apikey", "client_secret", "access_key", "secret_key",
    "sig", "signature", "Signature",  # Azure SAS `sig`, CloudFront `Signature`
    "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "AWSAccessKeyId",  # AWS SigV4 / SigV2
    "X-Goog-Signature", "X-Goog-Credential", "GoogleAccessId",  # Google Cloud Storage
    "hdnts", "auth_token", "id_token", "refresh_token", "session_token", "password", "passwd",
]
NOT_SECRET_KEYS = ["se", "sp", "sv", "X-Amz-Date", "X-Amz-Expires", "Expires", "Key-Pair-Id", "model", "type"]


@pytest.mark.parametrize("key", SIGNED_URL_KEYS)
def test_signed_url_and_cloud_credential_keys_are_secret(key: str) -> None:
    assert is_secret_key(key)
    url = f"https://bucket.example/obj?X-Amz-Date=20250901T000000Z&{key}=s3cretvalue99&se=2025-09-01"
    for written in (redact_url(url), redact_text(f"GET {url} answered 403"), redact({"note": url}, )["note"]):
        assert "s3cretvalue99" not in written, written
        assert "X-Amz-Date=20250901T000000Z" in written and "se=2025-09-01" in written  # the rest is kept


@pytest.mark.parametrize("key", NOT_SECRET_KEYS)
def test_expiry_and_permission_keys_are_kept(key: str) -> None:
    assert not is_secret_key(key)
    assert "kept-value" in redact_url(f"https://h.example/x?{key}=kept-value")


def test_link_credential_pattern_stops_at_the_query_separator() -> None:
    """`X-Amz-Credential=...&b=2` is a query key (its value alone goes); a Link header's
    `credential=` parameter still does."""
    text = redact_text('<https://h/?X-Amz-Credential=AKIA%2F2020&b=2>; rel="ice-server"; credential="pw"; username="u"')
    assert "AKIA" not in text and "b=2" in text and 'credential="[redacted]"' in text and 'username="u"' in text


@pytest.mark.parametrize("url", ["https://user:hunter2pw@sfu.example/whip?x=1", "http://u%40x:hunter2pw@[::1]:8080/w",
                                 "HTTPS://only-a-user-hunter2pw@sfu.example/"])
def test_userinfo_in_free_text_is_removed(url: str) -> None:
    text = redact_text(f"imported from HAR x.har (exchange 1): POST {url} answered 401 Unauthorized")
    assert "hunter2pw" not in text and f"{REDACTED}@" in text
    assert "hunter2pw" not in redact_url(url)


def test_har_user_password_url_reaches_neither_capture_nor_report(tmp_path: Path) -> None:
    """A HAR whose offer went to `https://user:password@host/whip`, refused with 401 (the end
    diagnosis quotes the URL) and echoed back URL-encoded in the body: imported and reported,
    the password is nowhere. The offer is a real one (aiortc's Chrome fixture)."""
    offer = (REALWORLD / "aiortc-audio_chrome-1.sdp").read_text()
    password = "Pa55w0rd-hunter2-XYZ"
    url = f"https://alice:{password}@ingest.example/whip/live"
    har = {"log": {"version": "1.2", "creator": {"name": "test"}, "entries": [{
        "startedDateTime": "2025-09-01T12:00:00.000Z", "time": 40,
        "request": {"method": "POST", "url": url, "headers": [{"name": "Content-Type", "value": "application/sdp"}],
                    "postData": {"mimeType": "application/sdp", "text": offer}},
        "response": {"status": 401, "headers": [], "content": {
            "mimeType": "text/plain", "text": f"no user alice with password {quote(password, safe='')} at {url}"}},
    }]}}
    path = tmp_path / "whip.har"
    path.write_text(json.dumps(har))
    imported = run_cli("import", str(path), "-o", str(tmp_path / "out"), "--json")
    assert imported.status == 0, imported.stderr
    report = run_cli("report", *map(str, (tmp_path / "out").glob("*.jsonl")), "-o", str(tmp_path / "r.html"))
    assert report.status == 0, report.stderr
    written = [p.read_text() for p in (tmp_path / "out").glob("*.jsonl")] + [(tmp_path / "r.html").read_text()]
    assert len(written) == 2
    end = json.loads(written[0].splitlines()[-1])
    assert end["reason"] == "http" and "ingest.example/whip/live" in end["diagnosis"]
    for text in [*written, imported.stdout, imported.stderr, report.stdout, report.stderr]:
        assert password not in text and quote(password, safe="") not in text


def test_binary_message_is_scrubbed_before_it_becomes_hex() -> None:
    secret = "bin-secret-0123456789"
    register_secret(secret)
    fields = truncate_message(b"\x00\xfe" + secret.encode() + b"\x01" + b"sk-live0123456789abcdef")
    data = bytes.fromhex(fields["data"])
    assert data == b"\x00\xfe[redacted]\x01[redacted]" and fields["binary"]
    assert fields["size"] == 2 + len(secret) + 1 + 23 and not fields["truncated"]


@pytest.mark.parametrize("offset", range(-12, 3))
def test_token_cut_by_the_message_limit_leaves_nothing_of_itself(offset: int) -> None:
    """The 4 KiB cut falls anywhere in or around the token: none of its characters survive."""
    token = "cut-token-ABCDEFGHIJKLMNOP"
    register_secret(token)
    before = "x" * (MESSAGE_LIMIT + offset)
    for message in (before + token + "tail", before + '"api_key": "' + "Zq9" * 8 + '"'):
        fields = truncate_message(message)
        assert fields["truncated"] and fields["size"] == len(message)
        kept = fields["data"]
        assert kept.startswith(before[:MESSAGE_LIMIT - 12]) and len(kept) <= MESSAGE_LIMIT + len(REDACTED)
        assert "cut-tok" not in kept and "Zq9Zq9" not in kept


def test_shape_secret_cut_by_an_excerpt_is_scrubbed_whole() -> None:
    """`sk-...` patterns need 8 characters: an excerpt cut after 5 would have kept them."""
    body = "e" * (BODY_EXCERPT_CHARS - 5) + " sk-proj0123456789abcdef more"
    shown = excerpt(body)
    assert "sk-pr" not in shown and shown.endswith("…")
    assert redact_cut("ab " + "sk-0123456789abc", 8) == "ab " + REDACTED


@pytest.mark.parametrize("prefix", ["", "u", "us", "user:", "ab:"])
def test_base64_echoes_of_a_registered_secret_at_any_alignment(prefix: str) -> None:
    secret = "b64-Secret/Value+0987654321"
    register_secret(secret)
    raw = (prefix + secret).encode()
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
                    base64.b64encode(raw).decode().rstrip("=")):
        text = redact_text(f'{{"auth": "x", "blob": "{encoded}"}}')
        core = base64.b64encode(secret.encode()[3:15]).decode()
        assert REDACTED in text and core[:8] not in text, text


@pytest.mark.parametrize("encode", [lambda s: quote(s, safe=""), quote, quote_plus,
                                    lambda s: re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), quote(s, safe="")), lambda s: json.dumps(s)[1:-1]],
                         ids=["quote", "quote-keep-slash", "quote-plus", "lowercase-hex", "json"])
def test_url_encoded_echoes_of_a_registered_secret(encode) -> None:  # type: ignore[no-untyped-def]
    secret = "url Secret/&=?+ é 42"
    register_secret(secret)
    echoed = encode(secret)
    assert echoed != secret or encode is quote
    text = redact_text(f"error: token {echoed} is not valid")
    assert text == f"error: token {REDACTED} is not valid"


def test_long_strings_are_scrubbed_without_being_cached() -> None:
    """A peer's long unique messages must not pin memory in the scrubber's cache."""
    from rtcprobe import redact as module

    before = module._redact_cached.cache_info().currsize
    long = "q" * 100_000 + " Bearer abcdefghijkl0123"
    assert redact_text(long).endswith(f" {REDACTED}")
    assert module._redact_cached.cache_info().currsize == before


def test_oauth_fragment_tokens_are_secret() -> None:
    """OAuth's implicit flow returns the token in the fragment: `#access_token=...`."""
    url = "https://app.example/cb#access_token=ya29.fragment-secret&token_type=Bearer&expires_in=3600"
    for written in (redact_url(url), redact_text(f"redirected to {url}")):
        assert "fragment-secret" not in written and "expires_in=3600" in written
    assert redact_url("https://app.example/doc#section-2") == "https://app.example/doc#section-2"
