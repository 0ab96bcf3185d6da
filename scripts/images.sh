#!/usr/bin/env bash
# Build the local base images mcp-console deploys Python MCP servers on (idempotent, cached by tag).
#
# There is no image registry to pull from, so each base is bootstrapped from Debian packages
# (minbase + python3, python3-venv, CA certificates):
#   mcp-console/python-base:bookworm  - Debian 12, Python 3.11 (the default base)
#   mcp-console/python-base:trixie    - Debian 13, Python 3.13 (servers needing Python >= 3.12)
# The Debian mirror is read from the host's apt sources, so air-gapped mirrors work unchanged.
# Other images (the example server, PyPI-packaged servers) are built by mcp_console's ImageBuilder.
#
# Usage: scripts/images.sh [--force]     (needs root for debootstrap, and a running Docker engine)
set -euo pipefail

BOOKWORM_TAG="${MCP_CONSOLE_BASE_IMAGE:-mcp-console/python-base:bookworm}"
TRIXIE_TAG="${MCP_CONSOLE_TRIXIE_IMAGE:-mcp-console/python-base:trixie}"
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

read_mirror() {
    local sources=/etc/apt/sources.list.d/debian.sources
    if [[ -r $sources ]]; then
        awk '/^URIs:/{print $2; exit}' "$sources"
    elif [[ -r /etc/apt/sources.list ]]; then
        awk '$1=="deb"{for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list
    fi
}

ensure_debootstrap() {
    if ! command -v debootstrap >/dev/null 2>&1 && [[ ! -x /usr/sbin/debootstrap ]]; then
        echo "images.sh: installing debootstrap"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    fi
    DEBOOTSTRAP="$(command -v debootstrap || echo /usr/sbin/debootstrap)"
}

ROOTFS=""
trap 'if [[ -n $ROOTFS ]]; then rm -rf "$ROOTFS" "$ROOTFS.log"; fi' EXIT

# build_base SUITE TAG: bootstrap SUITE and import it as TAG, unless TAG is already there.
build_base() {
    local suite=$1 tag=$2 start
    if [[ $FORCE -eq 0 ]] && docker_cli image inspect "$tag" >/dev/null 2>&1; then
        echo "images.sh: $tag is present (cached)"
        return 0
    fi
    local mirror
    mirror="$(read_mirror)"
    if [[ -z "$mirror" ]]; then
        echo "images.sh: no Debian mirror found in the apt sources" >&2
        return 1
    fi
    ensure_debootstrap
    ROOTFS="$(mktemp -d)"
    start=$SECONDS
    echo "images.sh: bootstrapping $suite from $mirror"
    # The host's keyring signs every Debian release; newer suites need no extra keys.
    if ! "$DEBOOTSTRAP" --variant=minbase --include=python3,python3-venv,ca-certificates \
        "$suite" "$ROOTFS" "$mirror" >"$ROOTFS.log" 2>&1; then
        tail -n 30 "$ROOTFS.log" >&2
        return 1
    fi
    rm -f "$ROOTFS.log"
    # Package caches and lists only make the image larger.
    rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
    tar -C "$ROOTFS" -c . | docker_cli import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["python3"]' \
        - "$tag" >/dev/null
    rm -rf "$ROOTFS"
    ROOTFS=""
    docker_cli run --rm --network none "$tag" \
        python3 -c 'import sys, venv; print("python", sys.version.split()[0])'
    echo "images.sh: built $tag in $((SECONDS - start)) s"
}

build_base bookworm "$BOOKWORM_TAG"
build_base trixie "$TRIXIE_TAG"
