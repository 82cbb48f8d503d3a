#!/usr/bin/env bash
# Janus (Debian `janus`, its default configuration: VideoRoom room 1234, WebSockets API on
# 127.0.0.1:8188) behind Meetecho's simple-whip-server (Debian package unpacked by install.sh into
# interop/build/janus): `janus_whip.sh HOST PORT` serves WHIP at http://HOST:PORT/whip/endpoint/interop.
# Prints {"listening": ...} once the endpoint exists; stops both on SIGTERM. Run inside the namespace.
set -euo pipefail
host="$1"; port="$2"
here="$(cd "$(dirname "$0")/.." && pwd)"
janus -o >"${TMPDIR:-/tmp}/interop-janus-$$.log" 2>&1 &
janus_pid=$!
whip_pid=""
trap 'kill $janus_pid ${whip_pid} 2>/dev/null; wait 2>/dev/null; exit 0' TERM INT EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/8188) 2>/dev/null && break; sleep 0.1; done
(cd "$here/build/janus" && WHIP_PORT="$port" exec node src/server.js) &
whip_pid=$!
for _ in $(seq 100); do
    if curl -sf -X POST -H 'Content-Type: application/json' -d '{"id":"interop","room":1234}' \
        "http://$host:$port/whip/create" >/dev/null 2>&1; then
        echo "{\"listening\": \"$host:$port\", \"stack\": \"janus\"}"
        wait $whip_pid
        exit 0
    fi
    sleep 0.1
done
echo '{"error": "simple-whip-server did not answer /whip/create"}'
exit 1
