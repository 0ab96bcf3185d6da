"""SecretBox: authenticated encryption of deployment secrets at rest, and masking for display."""

from __future__ import annotations

import binascii
import contextlib
import os
import secrets
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from mcp_console.schemas.errors import Unavailable
from mcp_console.settings import Settings

KEY_FILE_NAME = "secret.key"
KEY_SETTING = "MCP_CONSOLE_SECRET_KEY"
MASK = "••••••"
_KEY_FILE_MODE = 0o600
_DIR_MODE = 0o700
_NEW_KEY_HINT = (
    "restore the key the secrets were stored with, or make a new one (stored secrets must then "
    'be set again) with: python -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())"'
)


class SecretBox:
    """Encrypts and decrypts secret values with one Fernet key (AES-128-CBC + HMAC-SHA256).

    The key comes from the ``secret_key`` setting (``MCP_CONSOLE_SECRET_KEY``) or from
    ``<data_dir>/secret.key``, created on first use readable by its owner only. Losing the key
    makes every stored secret unreadable: back it up with the database.
    """

    def __init__(self, key: bytes | str, *, source: str = "the secret key") -> None:
        """Use ``key``, a url-safe base64 encoding of 32 bytes; ``source`` names it in errors.

        Raises:
            Unavailable: the key is not a valid Fernet key.
        """
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError, binascii.Error):
            raise Unavailable(
                f"{source} does not hold a valid secret key (32 bytes in url-safe base64, "
                f"44 characters); {_NEW_KEY_HINT}",
                field="secret_key",
            ) from None
        self._source = source

    def __repr__(self) -> str:
        return f"SecretBox(source={self._source!r})"

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        """The box for these settings: the configured key, else the data dir's key file.

        The key file is created when missing (mode 0600, in a data dir created 0700). This
        touches the file system: call it from a thread when a loop is running.

        Raises:
            Unavailable: the configured key or the key file is unusable; the message says why
                and how to fix it.
        """
        if settings.secret_key:
            return cls(settings.secret_key.strip(), source=KEY_SETTING)
        path = settings.data_dir / KEY_FILE_NAME
        return cls(load_or_create_key_file(path), source=str(path))

    def encrypt(self, plaintext: str) -> str:
        """The authenticated ciphertext of ``plaintext`` (ASCII; differs on every call)."""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The plaintext of a token made by ``encrypt`` with the same key.

        Raises:
            Unavailable: the token was made with another key, was altered, or is not a token.
        """
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise Unavailable(
                f"a stored secret cannot be decrypted with {self._source}: it was encrypted "
                "with a different key or has been altered; restore the original key, or set "
                "the secret again",
                field="secret_key",
            ) from None


def mask(value: str | None) -> str:
    """What to show for a secret: ``MASK`` when it is set (whatever its length), else ``""``."""
    return MASK if value else ""


def load_or_create_key_file(path: Path) -> bytes:
    """The key stored at ``path``, generating it first when the file does not exist.

    Raises:
        Unavailable: the file or its directory is open to other users, or it cannot be read
            or written.
    """
    _ensure_private_dir(path.parent)
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        pass
    key = Fernet.generate_key()
    # Written under a private temporary name, then linked into place: another process starting
    # at the same time either wins the link (we read its key) or sees no file, never a half one.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, _KEY_FILE_MODE)
        try:
            os.write(fd, key + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    except OSError as exc:
        raise Unavailable(
            f"cannot create the secret key file {path}: {exc.strerror}", field="secret_key"
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return _read_key_file(path)


def _ensure_private_dir(directory: Path) -> None:
    if not directory.exists():
        try:
            directory.mkdir(parents=True, mode=_DIR_MODE)
            # mkdir's mode passes through the umask; a umask cannot widen it, but be exact.
            directory.chmod(_DIR_MODE)
        except FileExistsError:
            pass
        except OSError as exc:
            raise Unavailable(
                f"cannot create the data directory {directory}: {exc.strerror}",
                field="secret_key",
            ) from None
    mode = stat.S_IMODE(directory.stat().st_mode)
    # Anyone who can write the directory can swap the key file for one they know.
    if mode & 0o022:
        raise Unavailable(
            f"the directory {directory} holding the secret key is writable by other users "
            f"(mode {mode:04o}); run: chmod 700 {directory}",
            field="secret_key",
        )


def _read_key_file(path: Path) -> bytes:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise Unavailable(
            f"cannot read the secret key file {path}: {exc.strerror}", field="secret_key"
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise Unavailable(f"the secret key file {path} is not a regular file", field="secret_key")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise Unavailable(
            f"the secret key file {path} is open to other users (mode {mode:04o}); "
            f"run: chmod 600 {path}",
            field="secret_key",
        )
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise Unavailable(
            f"cannot read the secret key file {path}: {exc.strerror}", field="secret_key"
        ) from None
    if not key:
        raise Unavailable(
            f"the secret key file {path} is empty; restore it from a backup (without it the "
            "stored secrets cannot be read), or remove it to start with a new key",
            field="secret_key",
        )
    return key
