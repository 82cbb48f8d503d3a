"""What kind of signaling interface a service speaks, judged from the HTTP exchange.

What the request was (protocol, content type, headers, path) is always knowable; what the service
speaks is only knowable from an answer. A refused or unanswered request says nothing about the
latter, so the row then names the request and the refusal, never "not WHIP".
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit


def _status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _request_kind(content_type: str, fields: list[str], headers: dict[str, str], url: str,
                  protocol: str | None) -> str:
    """What was sent, in the words of the interface it was meant for."""
    if content_type == "multipart/form-data":
        named = " and ".join(f"`{f}`" for f in fields) or "no"
        return f"multipart form POST with {named} fields" + (" (OpenAI realtime calls)" if protocol == "openai" else "")
    if content_type == "application/sdp" and "openai-beta" in headers:
        return f"SDP POST with `OpenAI-Beta: {headers['openai-beta']}` (realtime beta)"
    if content_type == "application/sdp":
        segments = [s.lower() for s in urlsplit(url).path.split("/") if s]
        if protocol == "whip" or (protocol is None and "whip" in segments):
            return "WHIP offer (application/sdp POST)"
        return "SDP POST (application/sdp)"
    if content_type == "application/json":
        return "JSON offer POST ({type, sdp})"
    return f"HTTP POST of {content_type or 'unknown content'}"


def describe_interface(http: list[dict[str, Any]], protocol: str | None = None) -> tuple[str, dict] | None:
    """A sentence and facts for the profile's Interface row; None when nothing is known."""
    # the last offer POST: earlier ones are the hops a 307/308 redirect answered
    offer = next((h for h in reversed(http) if h.get("phase", "offer") == "offer" and h.get("method") == "POST"), None)
    if offer is None:
        return None
    content_type = (offer.get("request_content_type") or "").split(";")[0].strip().lower()
    fields = list(offer.get("form_fields") or [])
    headers = {k.lower(): v for k, v in (offer.get("request_headers") or {}).items()}
    status = offer.get("status")
    location = offer.get("location")
    established = isinstance(status, int) and 200 <= status < 300
    facts = {"method": "POST", "request_content_type": content_type, "form_fields": fields,
             "status": status, "location": bool(location), "protocol": protocol, "established": established}
    kind = _request_kind(content_type, fields, headers, str(offer.get("url") or ""), protocol)
    if status is None:
        summary = f"{kind} that got no answer ({offer.get('error') or 'no response'}) — interface not established"
    elif 300 <= status < 400:
        summary = (f"{kind} (redirected: {_status_text(status)}, which keeps no POST body; only 307/308 are "
                   "followed) — interface not established")
    elif not established:
        summary = f"{kind} (request refused: {_status_text(status)}) — interface not established"
    elif offer.get("body_excerpt") and content_type != "application/json":
        answered = (offer.get("response_content_type") or "no Content-Type").split(";")[0].strip()
        summary = (f"{kind} answered {_status_text(status)} with {answered}, not an SDP answer — interface not "
                   "established")
    elif content_type == "multipart/form-data":
        named = " and ".join(f"`{f}`" for f in fields) or "no"
        summary = f"WHIP-like, but not spec WHIP (multipart form with {named} fields)"
    elif content_type == "application/sdp" and "openai-beta" in headers:
        summary = f"SDP POST with `OpenAI-Beta: {headers['openai-beta']}` (realtime beta), not spec WHIP"
    elif content_type == "application/sdp" and status == 201 and location:
        summary = "WHIP (RFC 9725): application/sdp POST, 201 Created with Location"
    elif content_type == "application/sdp":
        missing = "no Location" if not location else f"status {status}, not 201"
        summary = f"plain SDP POST answered {_status_text(status)} (not WHIP: {missing})"
    elif content_type == "application/json":
        summary = "JSON offer/answer POST ({type, sdp})"
    else:
        summary = f"HTTP POST of {content_type or 'unknown content'}"
    return summary, facts
