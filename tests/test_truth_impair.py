"""The truth table at one grid point, in `make test`: the probe impairs its own sockets
(`--impair loss=2%,delay=25ms --seed 9`) against headless Chromium, and its numbers are compared
with the impairment's own record and with Chromium's getStats (tests/truth_metrics.py; the whole
grid is `make truth`, bench/truth.py). Only what is exact is asserted here, no timing threshold:

- packets lost, both directions: the probe's inbound-rtp and Chromium's = the impairment's drops
  between the first and the highest packet received, per media SSRC; the seam's record of drops
  = the impairment's `rtp_drops` summary;
- every report block: the probe's own RRs (aiortc) carry RFC 3550's fraction and cumulative lost
  of the impairment's drops exactly; Chromium's blocks (the probe's remote-inbound-rtp) the same
  in libwebrtc's 255 scale, on every interval whose bounds reached the probe;
- NACKs the probe sent = those Chromium received + those the impairment dropped; Chromium's
  NACKs = those the probe received + at most the reports the impairment dropped; PLIs alike;
- every RTT sample of the probe, and Chromium's, is at least 2 x delay (each report crossed the
  delay once each way): a causal bound, not a performance threshold.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import Chromium
from chromium_far_end import run_session
from truth_metrics import measure, rtt_samples_ms

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SPEC = "loss=2%,delay=25ms"
DELAY_MS = 25.0


async def test_one_grid_point_against_the_impairment_and_chromium(chromium: Chromium, tmp_path: Path) -> None:
    truth = await run_session(chromium, tmp_path / "truth-impair.jsonl", impair=SPEC, media_seconds=6.0)
    point = measure(truth)
    v = point.values
    assert point.failures == []  # the seam's record of drops is the impairment's own
    for kind in ("audio", "video"):
        probe_lost, impaired_lost, dropped = v[f"{kind} lost down"]
        assert probe_lost == impaired_lost, kind
        chromium_lost, impaired_up, dropped_up = v[f"{kind} lost up"]
        assert chromium_lost == impaired_up, kind
    assert sum(v[f"{k} lost down"][2] + v[f"{k} lost up"][2] for k in ("audio", "video")) > 0  # not vacuous
    judged, blocks = v["rr intervals"]
    assert v["fraction err"] == 0 and v["cumulative err"] == 0, v.get("block errors")
    assert judged > 0 and blocks >= judged
    sent, dropped_up, received, chrome_sent, dropped_down, probe_received = v["nack"]
    assert sent - dropped_up == received
    assert 0 <= chrome_sent - probe_received <= dropped_down
    sent, dropped_up, received, chrome_sent, dropped_down, probe_received = v["pli"]
    assert sent - dropped_up == received
    assert 0 <= chrome_sent - probe_received <= dropped_down
    samples = rtt_samples_ms(truth, truth.probe("outbound-rtp", "video")["ssrc"])
    assert samples and min(samples) >= 2 * DELAY_MS
    assert v["rtt ms"][1] is not None and v["rtt ms"][1] >= 2 * DELAY_MS  # Chromium's mean
