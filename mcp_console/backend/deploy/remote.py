"""Remote deployments: the servers running elsewhere that a deployment fronts, and what it
sends them (URLs from the catalog's ``remotes`` or given by hand, credential headers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcp_console.backend.deploy.config import ResolvedConfig, resolve_config
from mcp_console.backend.deploy.secretstore import HEADER_PREFIX, URL_PREFIX, redact
from mcp_console.schemas.coercion import as_text
from mcp_console.schemas.config_schema import fill, placeholders
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.remote import (
    MAX_HEADERS,
    MAX_URLS,
    clear_text_problem,
    display_url,
    header_problem,
    url_problem,
)

REMOTE = "remote"
# The only transport the gateway fronts; a remote's ``sse`` endpoint is an older protocol.
STREAMABLE_HTTP = "streamable-http"

if TYPE_CHECKING:
    from mcp_console.backend.deploy.plan import Recipe


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One URL a remote deployment balances over, with the headers sent on every request.

    Attributes:
        url: Where the server answers (it may hold a key in its query string).
        headers: Sent with each request there: credentials, never shown.
        shown: The URL as it may be shown and stored in clear (query and secrets masked).
    """

    url: str = field(repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    shown: str = ""


@dataclass(frozen=True, slots=True)
class RemotePlan:
    """A new remote deployment's upstream, checked: the rows to store for what was given
    by hand (encrypted) and the endpoints it will balance over."""

    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    endpoints: Sequence[Endpoint] = ()

    def changes(self) -> dict[str, Any]:
        """What its history records: URLs as shown, header names (never their values)."""
        if not self.endpoints:
            return {}
        return {
            "urls": [e.shown for e in self.endpoints],
            "headers": sorted({name for e in self.endpoints for name in e.headers}),
        }


def plan_remote(
    recipe: Recipe,
    config_schema: Mapping[str, Any],
    resolved: ResolvedConfig,
    urls: Sequence[str],
    headers: Mapping[str, str],
) -> RemotePlan:
    """Check a new remote deployment of ``recipe``: URLs and headers given by hand, or the
    version's own remotes, with the configuration already resolved.

    Raises:
        Invalid: naming what is wrong (see ``upstream_secrets`` and ``endpoints``).
    """
    rows = upstream_secrets(urls, headers)
    found = endpoints(
        recipe.service,
        recipe.version,
        recipe.remotes,
        config_schema,
        resolved.values,
        dict(resolved.secrets) | rows,
    )
    return RemotePlan(rows, found)


def refuse_for_remote(session_mode: str, *, autoscale: bool) -> None:
    """Refuse what a remote deployment cannot do: its instances are URLs, not servers here.

    Raises:
        Invalid: per-session mode or autoscaling was asked for.
    """
    if session_mode == "per-session":
        raise Invalid(
            "a remote deployment cannot start an instance per session: its servers run "
            "elsewhere; use the shared session mode (each client session still keeps to one URL)",
            field="session_mode",
        )
    if autoscale:
        raise Invalid(
            "a remote deployment runs one instance per URL: it cannot autoscale",
            field="autoscale",
        )


def streamable_remotes(remotes: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The catalog remotes the gateway can front (Streamable HTTP ones)."""
    return [r for r in remotes if r.get("type") == STREAMABLE_HTTP and r.get("url")]


def why_not_remote(service: str, version: str, remotes: Sequence[Mapping[str, Any]]) -> str:
    """Why a version cannot be deployed as a remote one (for error messages)."""
    kinds = sorted({str(r.get("type")) for r in remotes})
    if kinds:
        return (
            f"{service} {version}'s remote endpoints speak {', '.join(kinds)}; the gateway "
            "fronts streamable-http endpoints only: give the URL of one (--url)"
        )
    return (
        f"{service} {version} has no remote endpoint: give the URL of a server running it "
        "(--url), or choose another runtime"
    )


def upstream_secrets(urls: Sequence[str], headers: Mapping[str, str]) -> dict[str, str]:
    """URLs and headers given by hand, checked, as the rows stored (encrypted) for them.

    Raises:
        Invalid: a URL or header is wrong (``field`` is ``urls.<n>`` or ``headers.<name>``);
            the message never quotes a header's value.
    """
    if len(urls) > MAX_URLS:
        raise Invalid(f"at most {MAX_URLS} URLs may be balanced over", field="urls")
    if len(headers) > MAX_HEADERS:
        raise Invalid(f"at most {MAX_HEADERS} headers may be sent", field="headers")
    if headers and not urls:
        raise Invalid("headers are sent to the URLs given with them: give --url", field="headers")
    rows: dict[str, str] = {}
    for n, url in enumerate(urls):
        url = url.strip()
        problem = url_problem(url)
        if problem is not None:
            raise Invalid(f"URL {display_url(url)} {problem}", field=f"urls.{n}")
        if url in rows.values():
            raise Invalid(f"URL {display_url(url)} is given twice", field=f"urls.{n}")
        rows[f"{URL_PREFIX}{n + 1}"] = url
    seen: set[str] = set()
    for name, value in headers.items():
        name = name.strip()
        problem = header_problem(name, value)
        if problem is None and name.lower() in seen:
            problem = f"{name} is given twice"
        if problem is not None:
            raise Invalid(problem, field=f"headers.{name}")
        seen.add(name.lower())
        rows[f"{HEADER_PREFIX}{name}"] = value.strip()
    return rows


def endpoints(
    service: str,
    version: str,
    remotes: Sequence[Mapping[str, Any]],
    config_schema: Mapping[str, Any],
    config: Mapping[str, Any],
    stored: Mapping[str, str],
) -> list[Endpoint]:
    """Where a remote deployment sends its traffic, and with which headers.

    URLs given by hand (``url:<n>`` rows of ``stored``) replace the version's own remotes;
    the headers a remote declares are filled from the configuration (``{name}`` variables,
    or a property named after the header), and headers given by hand are added to each.

    Args:
        service: the service's name (for messages).
        version: the version's label (for messages).
        remotes: the version's ``remotes`` (server.json).
        config_schema: the version's configuration schema.
        config: the deployment's plain configuration values.
        stored: every secret of the deployment (``DeploymentSecrets.load_all``).

    Raises:
        Invalid: nothing to front, a variable missing, or a URL or header that cannot be
            used (plain http to another machine with credentials, say).
    """
    hand_urls = [
        stored[key]
        for key in sorted(
            (k for k in stored if k.startswith(URL_PREFIX)),
            key=lambda k: int(k[len(URL_PREFIX) :]),
        )
    ]
    hand_headers = {
        k[len(HEADER_PREFIX) :]: v for k, v in stored.items() if k.startswith(HEADER_PREFIX)
    }
    secrets = {k: v for k, v in stored.items() if not k.startswith((URL_PREFIX, HEADER_PREFIX))}
    resolved = resolve_config(dict(config_schema), dict(config), secrets)
    texts = {k: as_text(v) for k, v in resolved.values.items() if not isinstance(v, dict)}
    texts.update(resolved.secrets)
    masked = list(resolved.secrets.values())
    usable = streamable_remotes(remotes)
    if hand_urls:
        declared = usable[0].get("headers") if usable else None
        plans = [(url, declared) for url in hand_urls]
    elif usable:
        plans = [(_url(r, texts), r.get("headers")) for r in usable]
    else:
        raise Invalid(why_not_remote(service, version, remotes), field="urls")
    out: list[Endpoint] = []
    for url, declared in plans:
        headers = _declared_headers(declared, texts)
        headers.update(hand_headers)
        out.append(_endpoint(url, headers, masked))
    return out


def _url(remote: Mapping[str, Any], texts: Mapping[str, str]) -> str:
    template = str(remote["url"])
    for ref in placeholders(template):
        if ref not in texts:
            raise Invalid(
                f"config.{ref}: required by the remote URL {display_url(template)}",
                field=f"config.{ref}",
            )
    return fill(template, texts.get)


def _declared_headers(declared: object, texts: Mapping[str, str]) -> dict[str, str]:
    """The headers a catalog remote declares, filled in; those with no value given are left
    out (the configuration schema already required the required ones)."""
    headers: dict[str, str] = {}
    if not isinstance(declared, list):
        return headers
    for spec in declared:
        if not isinstance(spec, Mapping) or not spec.get("name"):
            continue
        name = str(spec["name"])
        template = spec.get("value")
        if template is None:
            value = texts.get(name)
        elif all(ref in texts for ref in placeholders(str(template))):
            value = fill(str(template), texts.get)
        else:
            value = None
        if value:
            headers[name] = value
    return headers


def _endpoint(url: str, headers: dict[str, str], secrets: Sequence[str]) -> Endpoint:
    shown = redact(display_url(url), secrets)
    problem = url_problem(url)
    if problem is not None:
        raise Invalid(f"the remote URL {shown} {problem}", field="urls")
    for name, value in headers.items():
        problem = header_problem(name, value)
        if problem is not None:
            raise Invalid(problem, field=f"headers.{name}")
    if headers and (problem := clear_text_problem(url)) is not None:
        raise Invalid(f"the remote URL {shown} {problem}", field="urls")
    return Endpoint(url=url, headers=headers, shown=shown)
