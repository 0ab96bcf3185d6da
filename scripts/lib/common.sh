# shellcheck shell=bash
# Helpers shared by scripts/start and scripts/test (sourced, not run).

# The repository root, whatever the caller's working directory.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
# Logs and state of the services the test command starts (git-ignored).
export STATE="$ROOT/.cache/test"

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

note() {
    printf '%s\n' "$*" >&2
}

# Create .venv when missing and install the project into it (editable) with the given
# extras ("" or "dev"). A stamp holding the hash of pyproject.toml makes a repeat run skip
# pip entirely; the dev install also satisfies a plain one. With "quiet", say nothing when
# there is nothing to do (scripts/start: the console's own output comes first).
ensure_venv() {
    local extras="$1" quiet="${2:-}" spec="." stamp hash
    [ -n "$extras" ] && spec=".[$extras]"
    hash="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)" || die "cannot read pyproject.toml"
    stamp="$VENV/.mcp-console-installed-${extras:-base}"
    if [ -x "$VENV/bin/python" ] && {
        [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ] \
            || { [ -z "$extras" ] && [ "$(cat "$VENV/.mcp-console-installed-dev" 2>/dev/null)" = "$hash" ]; }
    }; then
        [ -z "$quiet" ] && step "virtualenv .venv: mcp-console ($spec) up to date"
        return 0
    fi
    step "virtualenv .venv: installing mcp-console ($spec)"
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv "$VENV" || die "python3 -m venv .venv"
    fi
    (cd "$ROOT" && "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$spec") \
        || die "pip install -e '$spec'"
    printf '%s\n' "$hash" >"$stamp"
}
