"""A network namespace of our own for stacks that gather no loopback candidates (werift,
libdatachannel, pion...): `lo` up plus a veth pair whose two ends both live inside the namespace,
with the two host addresses of one private /30. Nothing is routed out of it and no address is
added anywhere else, so a session between two processes run inside it (`command(...)`) never
leaves the namespace. Created and removed by the caller (`with Namespace() as ns:`); needs root
and iproute2."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field

#: The private /30 used inside every namespace (RFC 1918; .1 and .2 are the two host addresses).
SUBNET = "10.215.15.0/30"
PEER_ADDRESS = "10.215.15.1"  # the third-party stack listens here (veth end "a")
PROBE_ADDRESS = "10.215.15.2"  # rtcprobe's side (veth end "b")


def unavailable_reason() -> str | None:
    """Why a namespace cannot be made here, or None."""
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed (Debian package iproute2)"
    if os.geteuid() != 0:
        return "network namespaces need root (run the interop suite as root, e.g. in the CI container)"
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@dataclass
class Namespace:
    """`ip netns` NAME with lo and a veth pair on SUBNET; `default_route` adds a route through the
    pair (Firefox gathers nothing without one), which still leads nowhere outside the namespace."""

    name: str = field(default_factory=lambda: f"rtcprobe-interop-{os.getpid()}")
    default_route: bool = False

    def __enter__(self) -> Namespace:
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        _ip("netns", "add", self.name)
        try:
            inside = ("netns", "exec", self.name, "ip")
            _ip(*inside, "link", "set", "lo", "up")
            _ip(*inside, "link", "add", "ia", "type", "veth", "peer", "name", "ib")
            _ip(*inside, "addr", "add", f"{PEER_ADDRESS}/30", "dev", "ia")
            _ip(*inside, "addr", "add", f"{PROBE_ADDRESS}/30", "dev", "ib")
            _ip(*inside, "link", "set", "ia", "up")
            _ip(*inside, "link", "set", "ib", "up")
            if self.default_route:
                _ip(*inside, "route", "add", "default", "via", PROBE_ADDRESS, "dev", "ia")
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def remove(self) -> None:
        """Delete the namespace (its veth pair goes with it); quiet when already gone."""
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True)

    def command(self, argv: list[str]) -> list[str]:
        """`argv` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *argv]
