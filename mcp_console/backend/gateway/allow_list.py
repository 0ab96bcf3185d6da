"""Host names and browser origins the gateway answers: patterns, and verdicts cached per value."""

from __future__ import annotations

from collections.abc import Iterable

# Distinct values remembered; past that (a client sending a new Host each time) they are
# still judged, just not remembered, so memory stays bounded.
MAX_VERDICTS = 1024


class AllowList:
    """Header values (``Host``, ``Origin``) matched against patterns, case-insensitively.

    A pattern is a value as the header carries it (``localhost:8766``,
    ``http://localhost:6274``) or ends in ``:*`` for any port (``localhost:*`` also allows
    ``localhost`` with no port). Every request asks, so each distinct value is judged once.
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        exact: set[str] = set()
        any_port: list[str] = []
        for pattern in patterns:
            text = pattern.strip().lower().rstrip("/")
            if text.endswith(":*"):
                any_port.append(text[:-2])
            else:
                exact.add(text)
        self._exact = frozenset(exact)
        self._any_port = tuple(any_port)
        self._verdicts: dict[bytes, bool] = {}

    def __call__(self, value: bytes) -> bool:
        """Whether ``value`` (a raw header value) matches a pattern."""
        verdict = self._verdicts.get(value)
        if verdict is None:
            verdict = self._judge(value.decode("latin-1").strip().lower().rstrip("/"))
            if len(self._verdicts) < MAX_VERDICTS:
                self._verdicts[value] = verdict
        return verdict

    def _judge(self, text: str) -> bool:
        if text in self._exact:
            return True
        for base in self._any_port:
            if text == base:
                return True
            if text.startswith(base) and text[len(base) : len(base) + 1] == ":":
                port = text[len(base) + 1 :]
                if port.isascii() and port.isdigit() and len(port) <= 5:
                    return True
        return False
