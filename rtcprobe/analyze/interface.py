"""What kind of signaling interface a service speaks, judged from the HTTP exchange."""

from __future__ import annotations

from typing import Any


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
    facts = {"method": "POST", "request_content_type": content_type, "form_fields": fields,
             "status": status, "location": bool(location), "protocol": protocol}
    if content_type == "multipart/form-data":
        named = " and ".join(f"`{f}`" for f in fields) or "no"
        summary = f"WHIP-like, but not spec WHIP (multipart form with {named} fields)"
    elif content_type == "application/sdp" and "openai-beta" in headers:
        summary = f"SDP POST with `OpenAI-Beta: {headers['openai-beta']}` (realtime beta), not spec WHIP"
    elif content_type == "application/sdp" and status == 201 and location:
        summary = "WHIP (RFC 9725): application/sdp POST, 201 Created with Location"
    elif content_type == "application/sdp" and status is None:
        summary = f"SDP POST that got no answer ({offer.get('error') or 'no response'})"
    elif content_type == "application/sdp":
        summary = f"plain SDP POST answered {status} (not WHIP: {'no Location' if not location else f'status {status}'})"
    elif content_type == "application/json":
        summary = "JSON offer/answer POST ({type, sdp})"
    else:
        summary = f"HTTP POST of {content_type or 'unknown content'}"
    return summary, facts
