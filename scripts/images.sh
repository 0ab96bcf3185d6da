#!/usr/bin/env bash
# Build the local base image mcp-console deploys Python MCP servers on (idempotent, cached by tag).
#
# There is no image registry to pull from, so the base is bootstrapped from Debian packages:
#   mcp-console/python-base:bookworm  - Debian bookworm minbase + python3, python3-venv, CA certs.
# The Debian mirror is read from the host's apt sources, so air-gapped mirrors work unchanged.
# Other images (the example server, PyPI-packaged servers) are built by mcp_console's ImageBuilder.
#
# Usage: scripts/images.sh [--force]     (needs root for debootstrap, and a running Docker engine)
set -euo pipefail

BASE_TAG="${MCP_CONSOLE_BASE_IMAGE:-mcp-console/python-base:bookworm}"
SUITE="bookworm"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

docker_cli() {
    # Prefer Debian's client: it matches the engine's API version.
    if [[ -x /usr/bin/docker ]]; then /usr/bin/docker "$@"; else docker "$@"; fi
}

if ! docker_cli info >/dev/null 2>&1; then
    echo "images.sh: the Docker engine is not reachable; start dockerd first" >&2
    exit 1
fi

if [[ $FORCE -eq 0 ]] && docker_cli image inspect "$BASE_TAG" >/dev/null 2>&1; then
    echo "images.sh: $BASE_TAG is present (cached)"
    exit 0
fi

read_mirror() {
    local sources=/etc/apt/sources.list.d/debian.sources
    if [[ -r $sources ]]; then
        awk '/^URIs:/{print $2; exit}' "$sources"
    elif [[ -r /etc/apt/sources.list ]]; then
        awk '$1=="deb"{for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list
    fi
}
MIRROR="$(read_mirror)"
if [[ -z "$MIRROR" ]]; then
    echo "images.sh: no Debian mirror found in the apt sources" >&2
    exit 1
fi

if ! command -v debootstrap >/dev/null 2>&1 && [[ ! -x /usr/sbin/debootstrap ]]; then
    echo "images.sh: installing debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
DEBOOTSTRAP="$(command -v debootstrap || echo /usr/sbin/debootstrap)"

ROOTFS="$(mktemp -d)"
trap 'rm -rf "$ROOTFS"' EXIT

start=$SECONDS
echo "images.sh: bootstrapping $SUITE from $MIRROR"
"$DEBOOTSTRAP" --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 || {
    tail -n 30 "$ROOTFS.log" >&2
    rm -f "$ROOTFS.log"
    exit 1
}
rm -f "$ROOTFS.log"
# Package caches and lists only make the image larger.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*

tar -C "$ROOTFS" -c . | docker_cli import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    - "$BASE_TAG" >/dev/null
docker_cli run --rm --network none "$BASE_TAG" python3 -c 'import sys, venv; print("python", sys.version.split()[0])'
echo "images.sh: built $BASE_TAG in $((SECONDS - start)) s"
