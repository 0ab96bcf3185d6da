"""SecretBox: secrets encrypted at rest with a key only their owner can read."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from mcp_console.backend.security.secrets import (
    KEY_FILE_NAME,
    MASK,
    SecretBox,
    load_or_create_key_file,
    mask,
)
from mcp_console.schemas.errors import Unavailable
from mcp_console.settings import Settings

PLAINTEXT = "ghp_s3cr3t-token-value"


def _settings(data_dir: Path, key: str | None = None) -> Settings:
    return Settings(data_dir=data_dir, secret_key=key)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would leave new files readable by everyone, unless created carefully."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_round_trip_hides_the_plaintext(tmp_path: Path) -> None:
    box = SecretBox.from_settings(_settings(tmp_path / "data"))
    first, second = box.encrypt(PLAINTEXT), box.encrypt(PLAINTEXT)
    assert PLAINTEXT not in first
    assert first != second  # a fresh IV each time: equal secrets do not look equal at rest
    assert box.decrypt(first) == PLAINTEXT
    assert box.decrypt(second) == PLAINTEXT
    assert box.decrypt(box.encrypt("ünïcødé ✓")) == "ünïcødé ✓"


@pytest.mark.usefixtures("open_umask")
def test_key_file_is_created_private_in_a_private_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    box = SecretBox.from_settings(_settings(data_dir))
    key_file = data_dir / KEY_FILE_NAME
    assert _mode(data_dir) == 0o700
    assert _mode(key_file) == 0o600
    assert os.listdir(data_dir) == [KEY_FILE_NAME]  # no temporary file left behind
    token = box.encrypt(PLAINTEXT)
    # The next start reads the same key back: what was stored stays readable.
    assert SecretBox.from_settings(_settings(data_dir)).decrypt(token) == PLAINTEXT


def test_concurrent_starts_agree_on_one_key(tmp_path: Path) -> None:
    key_file = tmp_path / "data" / KEY_FILE_NAME
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = list(pool.map(lambda _: load_or_create_key_file(key_file), range(16)))
    assert len(set(keys)) == 1
    assert key_file.read_bytes().strip() == keys[0]


def test_key_from_settings_is_used_and_no_file_written(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    data_dir = tmp_path / "data"
    box = SecretBox.from_settings(_settings(data_dir, key))
    token = box.encrypt(PLAINTEXT)
    assert Fernet(key).decrypt(token.encode()).decode() == PLAINTEXT
    assert not (data_dir / KEY_FILE_NAME).exists()
    assert key not in repr(box)


def test_wrong_key_is_a_clear_error_without_the_plaintext(tmp_path: Path) -> None:
    token = SecretBox.from_settings(_settings(tmp_path / "a")).encrypt(PLAINTEXT)
    other = SecretBox.from_settings(_settings(tmp_path / "b"))
    with pytest.raises(Unavailable, match="different key or has been altered") as caught:
        other.decrypt(token)
    assert PLAINTEXT not in str(caught.value)
    assert caught.value.field == "secret_key"


def test_tampered_token_is_refused(tmp_path: Path) -> None:
    box = SecretBox.from_settings(_settings(tmp_path / "data"))
    token = box.encrypt(PLAINTEXT)
    flipped = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    with pytest.raises(Unavailable, match="cannot be decrypted"):
        box.decrypt(flipped)
    with pytest.raises(Unavailable, match="cannot be decrypted"):
        box.decrypt("not a token at all")


def test_key_file_readable_by_others_is_refused_and_left_alone(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    SecretBox.from_settings(_settings(data_dir))
    key_file = data_dir / KEY_FILE_NAME
    before = key_file.read_bytes()
    key_file.chmod(0o644)
    with pytest.raises(Unavailable) as caught:
        SecretBox.from_settings(_settings(data_dir))
    message = caught.value.message
    assert str(key_file) in message
    assert "0644" in message
    assert f"chmod 600 {key_file}" in message
    assert key_file.read_bytes() == before  # refused, not replaced


def test_group_writable_data_dir_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data_dir.chmod(0o770)
    with pytest.raises(Unavailable, match=r"writable by other users .*chmod 700"):
        SecretBox.from_settings(_settings(data_dir))
    assert not (data_dir / KEY_FILE_NAME).exists()


def test_malformed_keys_are_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match="MCP_CONSOLE_SECRET_KEY does not hold a valid"):
        SecretBox.from_settings(_settings(tmp_path / "a", "not-a-key"))
    data_dir = tmp_path / "b"
    data_dir.mkdir(mode=0o700)
    key_file = data_dir / KEY_FILE_NAME
    key_file.write_text("garbage\n")
    key_file.chmod(0o600)
    with pytest.raises(Unavailable, match="does not hold a valid secret key") as caught:
        SecretBox.from_settings(_settings(data_dir))
    assert str(key_file) in caught.value.message
    key_file.write_text("")
    with pytest.raises(Unavailable, match="is empty; restore it"):
        SecretBox.from_settings(_settings(data_dir))


def test_mask_hides_value_and_length() -> None:
    assert mask("x") == mask(PLAINTEXT) == MASK
    assert mask(None) == ""
    assert PLAINTEXT not in mask(PLAINTEXT)
