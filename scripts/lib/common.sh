# Helpers shared by scripts/start and scripts/test (sourced, not run).

# The repository root, whatever the caller's working directory.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
# Logs and state of the services the test command starts (git-ignored).
STATE="$ROOT/.cache/test"

step() {
    printf '\n==> %s\n' "$*" >&2
}

die() {
    printf '\nFAILED: %s\n' "$*" >&2
    exit 1
}

# Run a step's command; on failure, name the step and stop.
run_step() {
    local name="$1"
    shift
    step "$name"
    "$@" || die "$name (exit $?)"
}

# Create .venv when missing and install the project into it (editable) with the given
# extras ("" or "dev"). A stamp holding the hash of pyproject.toml makes a repeat run skip
# pip entirely; the dev install also satisfies a plain one.
ensure_venv() {
    local extras="$1" spec="." stamp hash
    [ -n "$extras" ] && spec=".[$extras]"
    if [ ! -x "$VENV/bin/python" ]; then
        step "creating virtualenv .venv"
        python3 -m venv "$VENV" || die "python3 -m venv .venv"
    fi
    hash="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
    stamp="$VENV/.mcp-console-installed-${extras:-base}"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
        return 0
    fi
    if [ -z "$extras" ] && [ -f "$VENV/.mcp-console-installed-dev" ] \
        && [ "$(cat "$VENV/.mcp-console-installed-dev")" = "$hash" ]; then
        return 0
    fi
    step "installing mcp-console ($spec) into .venv"
    (cd "$ROOT" && "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$spec") \
        || die "pip install -e '$spec'"
    printf '%s\n' "$hash" >"$stamp"
}
