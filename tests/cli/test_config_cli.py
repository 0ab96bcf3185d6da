"""``mcp-console config show|set``: every setting with where it comes from, and a config
file written only with values the console takes."""

from __future__ import annotations

from pathlib import Path

from mcp_console.backend.security.secrets import MASK
from mcp_console.settings import CONFIG_FILE_NAME, Settings
from tests.cli.commands import Cli

KEY = "config-cli-key-9f3e1a"


def test_config_set_checks_and_show_says_where_each_value_comes_from(tmp_path: Path) -> None:
    data = tmp_path / "data"
    cli = Cli(data, "config-test")
    cli("config", "set", "deploy.health_timeout", "7.5")
    cli("config", "set", "gateway.allowed_hosts", "[console.example, 'console.example:*']")
    cli("config", "set", "api_key", KEY)
    cli("config", "set", "monitor.keep_1h", "120d")
    overridden = cli("config", "set", "api_port", "9100")
    zero = cli("config", "set", "deploy.health_timeout", "0", ok=False).stderr
    unknown = cli("config", "set", "deploy.helth_timeout", "3", ok=False).stderr
    duration = cli("config", "set", "monitor.keep_10s", "soon", ok=False).stderr
    home = cli("config", "set", "data_dir", str(tmp_path), ok=False).stderr
    rows = {row["key"]: row for row in cli.json("config", "show")}
    human = cli("config", "show").stdout

    assert "MCP_CONSOLE_API_PORT is set in the environment" in overridden.stderr
    assert zero.startswith("error: deploy.health_timeout: Input should be greater than 0")
    assert unknown.startswith("error: deploy.helth_timeout: no such setting; known: deploy.")
    assert duration.startswith("error: monitor.keep_10s: not a duration")
    assert home.startswith("error: data_dir holds the config file")
    assert rows["deploy.health_timeout"] == {
        "key": "deploy.health_timeout",
        "value": "7.5",
        "source": "config file",
    }
    assert rows["gateway.allowed_hosts"]["value"] == "console.example, console.example:*"
    assert rows["monitor.keep_1h"]["value"] == "120d"
    assert rows["monitor.keep_1m"] == {"key": "monitor.keep_1m", "value": "7d", "source": "default"}
    assert rows["api_port"]["source"] == "env MCP_CONSOLE_API_PORT"
    assert rows["api_port"]["value"] == "0"
    assert rows["deploy.scope"]["source"] == "env MCP_CONSOLE_DEPLOY__SCOPE"
    assert rows["bind_host"] == {"key": "bind_host", "value": "127.0.0.1", "source": "default"}
    assert rows["api_key"] == {"key": "api_key", "value": MASK, "source": "config file"}
    assert f"config file: {data / CONFIG_FILE_NAME}" in human
    assert not any(KEY in text for text in cli.printed)
    # The console reads the file: the environment first, then the file, then the defaults.
    settings = Settings(data_dir=data, api_port=1234)
    assert settings.deploy.health_timeout == 7.5
    assert settings.api_port == 1234
    assert settings.gateway.allowed_hosts == ["console.example", "console.example:*"]
    assert (data / CONFIG_FILE_NAME).stat().st_mode & 0o077 == 0
