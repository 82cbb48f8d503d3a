#!/usr/bin/env bash
# Install the interop suite's third-party peers from Debian and npm only (PEERS.md), and build the
# pion answerer offline against Debian's Go sources. Idempotent; `interop/install.sh npm` installs
# only the npm peers (what `make test` needs), `interop/install.sh all` everything.
set -euo pipefail
cd "$(dirname "$0")"
what="${1:-all}"

apt_install() {
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""; [ "$(id -u)" = "0" ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# npm peers: libwebrtc (@roamhq/wrtc), werift, libdatachannel (node-datachannel), pinned in package.json
if [ ! -d node_modules/@roamhq/wrtc ] || [ ! -d node_modules/werift ] || [ ! -d node_modules/node-datachannel ]; then
    command -v npm >/dev/null || apt_install nodejs npm
    npm ci --no-audit --no-fund --silent
fi
[ "$what" = "npm" ] && exit 0

# pion v3 from Debian, built in GOPATH mode with no network: the /vN import paths are symlinks to
# the module directories Debian ships without the version suffix.
apt_install golang-go golang-github-pion-webrtc.v3-dev iproute2
gopath="$PWD/build/gopath"
mkdir -p "$gopath/src/github.com/pion"
for module in webrtc:v3 sdp:v3 transport:v2 udp:v2; do
    name="${module%%:*}"; version="${module##*:}"
    mkdir -p "$gopath/src/github.com/pion/$name"
    ln -sfn "/usr/share/gocode/src/github.com/pion/$name" "$gopath/src/github.com/pion/$name/$version"
done
mkdir -p "$gopath/src/rtcprobe-interop"
ln -sfn "$PWD/peers/pion" "$gopath/src/rtcprobe-interop/pion"
build="$PWD/build"
(cd "$gopath/src/rtcprobe-interop/pion" && GOPATH="$gopath:/usr/share/gocode" GO111MODULE=off GOPROXY=off \
    GOCACHE="$build/gocache" go build -o "$build/pion-whip" .)
# GStreamer webrtcbin through Debian's simple-whip-client, with the libgupnp-igd stub that keeps
# libsoup3 out of its process (PEERS.md); Firefox ESR for the BiDi-driven client.
apt_install gcc gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
    gstreamer1.0-nice simple-whip-client firefox-esr
mkdir -p "$build/gst"
gcc -shared -fPIC -Wl,-soname,libgupnp-igd-1.0.so.4 -o "$build/gst/libgupnp-igd-1.0.so.4" peers/gst/gupnp-igd-stub.c
# Janus from Debian; simple-whip-server cannot be installed next to this nodejs (libnode108 conflict):
# download its .deb, unpack it into build/janus and install its npm dependencies there.
apt_install janus curl
if [ ! -d "$build/janus/node_modules/express" ]; then
    tmp="$(mktemp -d)"
    (cd "$tmp" && apt-get download -q simple-whip-server >/dev/null 2>&1 && dpkg -x simple-whip-server_*.deb x)
    mkdir -p "$build/janus"
    rm -rf "$build/janus/src" && cp -r "$tmp/x/usr/share/simple-whip-server/src" "$build/janus/src"
    rm -rf "$tmp"
    rm -f "$build/janus/src/config.js"  # a symlink to /etc/simple-whip-server/config.js in the package
    cat > "$build/janus/src/config.js" <<'JS'
module.exports = { janus: { address: 'ws://127.0.0.1:8188' }, port: Number(process.env.WHIP_PORT || 7080), rest: '/whip',
  allowTrickle: true, strictETags: false, iceServers: [] };
JS
    echo '{"private": true}' > "$build/janus/package.json"
    (cd "$build/janus" && npm install --no-audit --no-fund --silent express@4 cors@2 colors@1.4.0 debug@4 websocket@1 \
        body-parser@1 async@3)
fi
echo "interop peers installed"
