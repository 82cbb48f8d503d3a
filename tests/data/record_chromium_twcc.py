"""Record real transport-cc feedback (RTCP RTPFB FMT 15) that headless Chromium sent the probe.

The probe offers transport-wide-cc (the default chrome offer) and stamps every packet it sends;
Chromium answers (bench/bwe_parity.py's `probe_session`, through tests/relay.py with no loss) and
sends feedback. The first few RTCP datagrams holding feedback, as the probe's packet tap saw them
after SRTCP unprotect, are written one hex line each. They carry only SSRCs, sequence numbers
and arrival-time deltas: nothing of the recording machine.

    .venv/bin/python tests/data/record_chromium_twcc.py [-o OUT] [-n COUNT]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

from bwe_parity import Chromium, probe_session  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "realworld" / "rtcp" / "chromium-transport-cc-feedback.hex"


async def record(count: int) -> list[bytes]:
    with Chromium() as chromium, tempfile.TemporaryDirectory() as tmp:
        session = await probe_session(chromium, 0, 4.0, 1, Path(tmp) / "capture.jsonl")
    return session.feedback[:count]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    parser.add_argument("-n", "--count", type=int, default=5)
    args = parser.parse_args(argv)
    packets = asyncio.run(record(args.count))
    args.out.write_text("".join(p.hex() + "\n" for p in packets))
    print(f"{len(packets)} datagram(s) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
