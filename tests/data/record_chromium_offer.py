"""Record a real headless-Chromium offer into tests/data/chromium-offer.sdp.

The offer has audio + video (fake devices) + a data channel, with ICE gathering complete, and is
written byte for byte as Chromium produced it (CRLF). Its candidates carry the recording
machine's addresses: record on a machine whose addresses may be published.

    .venv/bin/python tests/data/record_chromium_offer.py [-o OUT]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for `browser`

from browser import Chromium, create_offer  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "chromium-offer.sdp"


async def record(chromium: Chromium) -> str:
    async with chromium.open_page() as page:
        return await create_offer(page)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    args = parser.parse_args(argv)
    with Chromium() as chromium:
        sdp = chromium.run(lambda: record(chromium))
        version = chromium.version
    args.out.write_bytes(sdp.encode("ascii"))
    print(f"wrote {args.out} ({len(sdp.splitlines())} lines, Chromium {version})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
