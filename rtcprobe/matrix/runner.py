"""Run each variant as one probe session (the same ProbeSession as `capture`) and classify it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ..capture import load
from ..probe.options import ProbeOptions
from ..probe.session import ProbeSession
from ..redact import redact_url
from .classify import Row, classify
from .result import MatrixResult
from .variants import Variant

MEDIA_SECONDS = 2.0  # --media: seconds of media after connecting, per variant


def variant_options(base: ProbeOptions, variant: Variant, directory: Path, media: bool) -> ProbeOptions:
    """The base options (target, protocol, token, timeouts) with the variant's tracks and edits."""
    return dataclasses.replace(
        base, output=directory / f"{variant.name}.jsonl",
        audio=(base.audio or "tone") if "audio" in variant.kinds else None, video="video" in variant.kinds,
        datachannel=(base.datachannel or "matrix") if variant.datachannel else base.datachannel,
        simulcast=variant.simulcast, variant=variant.edits(), answer_only=not media,
        duration=base.duration if media else 0.0)


async def run_matrix(base: ProbeOptions, variants: list[Variant], directory: Path, media: bool,
                     on_row: Callable[[Row], None] | None = None) -> MatrixResult:
    """Each variant in turn (sessions one at a time: what one variant leaves behind never meets the
    next); the result with one row per variant, each naming its capture."""
    directory.mkdir(parents=True, exist_ok=True)
    result = MatrixResult(redact_url(base.target), datetime.now(UTC).isoformat(timespec="seconds"), media=media)
    for variant in variants:
        options = variant_options(base, variant, directory, media)
        probe = await ProbeSession(options).run()
        flowed = (probe.status.packets_sent, probe.status.packets_received) if media else None
        row = classify(load(probe.path), variant, flowed)
        result.rows.append(row)
        if on_row is not None:
            on_row(row)
    return result
