"""``mcp-console apply -f`` and ``deploy export``: deployments written down, applied, and
applied again to no effect; secrets by reference only."""

from __future__ import annotations

import time
from pathlib import Path

from mcp_console.backend.runtime import Runtime
from mcp_console.backend.security.secrets import MASK
from mcp_console.settings import Settings
from tests.cli.commands import Cli

from ..catalogs import SECRET_SCHEMA, SETTLE_TIMEOUT, pid_of_instance, publish, shell_version

TOKEN = "apply-env-secret-5d1f0c"
FILE_TOKEN = "apply-file-secret-77ab2e"
SPEC = """\
kind: Deployment
name: web
service: svc
version: 1.0.0
runtime: process
replicas: 1
config:
  region: us
secrets:
  api_token: {env: APPLY_TOKEN}
profiles:
  prod:
    replicas: 2
---
kind: Deployment
name: idle
service: svc
version: 1.0.0
runtime: process
replicas: 0
secrets:
  api_token: {file: token.txt}
"""


async def test_apply_creates_updates_and_is_idempotent_and_export_round_trips(
    cli: Cli, tmp_path: Path
) -> None:
    async with Runtime(Settings(data_dir=tmp_path / "data")) as runtime:
        script = 'echo "token $API_TOKEN region $REGION" >&2'
        await publish(runtime, "svc", shell_version("1.0.0", script, schema=SECRET_SCHEMA))
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    (tmp_path / "token.txt").write_text(FILE_TOKEN + "\n")
    cli.env["APPLY_TOKEN"] = TOKEN

    dry = cli("apply", "-f", str(spec), "--dry-run").stdout
    before = cli.json("deploy", "list")
    created = cli("apply", "-f", str(spec)).stdout
    again = cli("apply", "-f", str(spec)).stdout
    prod_dry = cli("apply", "-f", str(spec), "--profile", "prod", "--dry-run").stdout
    prod = cli("apply", "-f", str(spec), "--profile", "prod").stdout
    scaled = cli.json("deploy", "show", "web")
    exported = cli("deploy", "export", "web", "idle").stdout
    (tmp_path / "exported.yaml").write_text(exported)
    round_trip = cli("apply", "-f", str(tmp_path / "exported.yaml")).stdout
    spec.write_text(SPEC.replace("runtime: process\nreplicas: 1", "runtime: docker\nreplicas: 1"))
    fixed = cli("apply", "-f", str(spec), ok=False).stderr
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while not any("token" in line["text"] for line in cli.json("deploy", "logs", "web")):
        assert time.monotonic() < deadline, cli.json("deploy", "show", "web")
        time.sleep(0.3)
    logs = [line["text"] for line in cli.json("deploy", "logs", "web")]

    assert "web (svc): create" in dry
    assert "  + secrets.api_token: from env APPLY_TOKEN" in dry
    assert "idle (svc): create" in dry
    assert "dry run: nothing was changed" in dry
    assert before == []
    assert "applied: web created, idle created" in created
    assert "nothing to change" in again
    assert "→" not in again
    assert "applied" not in again
    assert "  replicas: 1 → 2" in prod_dry
    assert "dry run" in prod_dry
    assert "  replicas: 1 → 2" in prod
    assert "applied: web updated" in prod
    assert scaled["replicas"] == 2
    assert "  api_token:\n    stored: true" in exported
    assert "region: us" in exported
    assert "nothing to change" in round_trip
    assert fixed.startswith(
        f"error: {spec}:5: deployments[0].runtime: cannot be changed on an existing deployment"
    )
    assert fixed.rstrip().endswith("process → docker")
    # The instance printed the value it was given; the console masks it in the logs.
    assert f"token {MASK} region us" in logs
    assert not any(TOKEN in text or FILE_TOKEN in text for text in cli.printed)


async def test_a_spec_that_cannot_apply_names_file_line_and_path(cli: Cli, tmp_path: Path) -> None:
    async with Runtime(Settings(data_dir=tmp_path / "data")) as runtime:
        await publish(runtime, "svc", shell_version("1.0.0", "true", schema=SECRET_SCHEMA))
    spec = tmp_path / "bad.yaml"
    good = "kind: Deployment\nname: one\nservice: svc\nsecrets:\n  api_token: {env: HOME}\n"

    def refused(text: str, *args: str) -> str:
        spec.write_text(text)
        return cli("apply", "-f", str(spec), *args, ok=False).stderr

    bad_replicas = refused(good + "---\nkind: Deployment\nname: two\nservice: svc\nreplicas: -1\n")
    inline = refused(good.replace("{env: HOME}", "s3cr3t-inline-value"))
    inline_config = refused(good + "config:\n  api_token: s3cr3t-inline-value\n")
    unknown = refused(good + "replica: 2\n")
    not_yaml = refused(good + "config: [unclosed\n")
    no_version = refused(good + "version: 9.9.9\n")
    unset = refused(good.replace("HOME", "APPLY_UNSET_VARIABLE"))
    stored = refused(good.replace("{env: HOME}", "{stored: true}"))
    region = refused(good + "config:\n  region: mars\n")
    profile = refused(good + "profiles:\n  prod:\n    replicas: many\n", "--profile", "prod")

    assert bad_replicas.startswith(
        f"error: {spec}:10: deployments[1].replicas: Input should be greater than or equal to 0"
    )
    assert inline.startswith(f"error: {spec}:5: deployments[0].secrets.api_token: a secret is")
    assert inline_config.startswith(f"error: {spec}:7: deployments[0].config.api_token: is a")
    assert unknown.startswith(f"error: {spec}:6: deployments[0].replica: Extra inputs")
    assert not_yaml.startswith(f"error: {spec}:7: not valid YAML")
    assert no_version.startswith(f"error: {spec}:6: deployments[0].version: svc has no version")
    assert unset.startswith(f"error: {spec}:5: deployments[0].secrets.api_token.env: the")
    assert stored.startswith(f"error: {spec}:5: deployments[0].secrets.api_token: nothing is")
    assert region.startswith(f"error: {spec}:7: deployments[0].config.region: must be one of")
    assert profile.startswith(
        f"error: {spec}:8: deployments[0].profiles.prod.replicas: Input should be a valid integer"
    )
    assert not any("s3cr3t-inline-value" in text for text in cli.printed)
    # Nothing was half-applied: the good first document was not created either.
    assert cli.json("deploy", "list") == []


STORED_TOKEN = "stored-secret-first-3a91c4"
ROTATED_TOKEN = "stored-secret-second-8e20d7"
STORED_SPEC = """\
kind: Deployment
name: web
service: svc
runtime: process
config:
  region: us
secrets:
  api_token: {secret: svc-token}
"""


def _serving(cli: Cli, old: str | None = None) -> dict[str, str]:
    """The environment of the deployment's one healthy instance (once it is not ``old``)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        shown = cli.json("deploy", "show", "web")
        names = [i["name"] for i in shown["instances"]]
        if shown["ready_replicas"] == 1 and len(names) == 1 and names != [old]:
            break
        assert time.monotonic() < deadline, shown
        time.sleep(0.3)
    environ = Path(f"/proc/{pid_of_instance(names[0])}/environ").read_bytes()
    pairs = [item.decode().partition("=") for item in environ.split(b"\0") if item]
    return {"instance": names[0]} | {name: value for name, _, value in pairs}


async def test_apply_changes_config_and_a_stored_secret_in_place(cli: Cli, tmp_path: Path) -> None:
    async with Runtime(Settings(data_dir=tmp_path / "data")) as runtime:
        await publish(runtime, "svc", shell_version("1.0.0", "true", schema=SECRET_SCHEMA))
    token = tmp_path / "token.txt"
    token.write_text(STORED_TOKEN + "\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(STORED_SPEC)

    stored = cli("secret", "set", "svc-token", "--from-file", str(token)).stdout
    listed = cli("secret", "list").stdout
    created = cli("apply", "-f", str(spec)).stdout
    first = _serving(cli)
    token.write_text(ROTATED_TOKEN)
    cli("secret", "set", "svc-token", "--from-file", str(token))
    spec.write_text(STORED_SPEC.replace("region: us", "region: eu"))
    planned = cli("apply", "-f", str(spec), "--dry-run").stdout
    applied = cli("apply", "-f", str(spec)).stdout
    second = _serving(cli, old=first["instance"])
    again = cli("apply", "-f", str(spec)).stdout
    by_hand = cli("deploy", "set", "web", "--config", "workers=3", "--dry-run").stdout
    history = cli("deploy", "history", "web").stdout
    idle = cli.json(
        "deploy",
        "create",
        "svc",
        "--name",
        "idle",
        "--replicas",
        "0",
        "--secret",
        "api_token=secret:svc-token",
    )
    from_file = cli("deploy", "set", "idle", "--secret", f"api_token=@{token}").stdout
    removed = cli("secret", "rm", "svc-token").stdout
    gone = cli("deploy", "set", "idle", "--secret", "api_token=secret:svc-token", ok=False)

    assert "secret svc-token stored" in stored
    assert "svc-token" in listed
    assert "applied: web created" in created
    assert (first["API_TOKEN"], first["REGION"]) == (STORED_TOKEN, "us")
    assert "  config.region: us → eu" in planned
    assert "  secrets.api_token: (set) → (changed)" in planned
    assert "dry run: nothing was changed" in planned
    assert "applied: web updated" in applied
    assert (second["API_TOKEN"], second["REGION"]) == (ROTATED_TOKEN, "eu")
    assert "nothing to change" in again
    assert "  config.workers: 2 → 3" in by_hand
    assert "dry run" in by_hand
    assert "configure" in history
    assert idle["secret_names"] == ["api_token"]
    # The file holds the stored secret's value: nothing to change.
    assert "nothing to change" in from_file
    assert "secret svc-token removed" in removed
    assert "you have no stored secret named 'svc-token'" in gone.stderr
    assert not any(STORED_TOKEN in text or ROTATED_TOKEN in text for text in cli.printed)
