"""Security headers on every response the server sends, from one policy applied by a ``before_send`` hook.

Every response carries ``Content-Security-Policy``, ``X-Content-Type-Options``, ``Referrer-Policy``,
``Permissions-Policy``, ``Cross-Origin-Opener-Policy`` and ``X-Frame-Options`` (the older browsers' form of
``frame-ancestors 'none'``); ``Strict-Transport-Security`` is added only when the browser reached the server over
https, directly or through a trusted proxy that says so in ``X-Forwarded-Proto``.

The content security policy depends on what the response is:

- HTML pages (the attendee app's shell, the console) and JavaScript get :data:`APP_POLICY`: scripts, styles,
  images, connections, the manifest and the service worker from the server's own origin only, nothing inline, no
  plugins, no ``<base>``, never framed. JavaScript needs it too because a service worker is governed by the policy
  delivered with its own script (``sw.js`` fetches and precaches under it); a script a page loads ignores it.
- Everything else (JSON, the live stream, calendar feeds, exports, icons, the manifest, errors) gets
  :data:`RESOURCE_POLICY`, which allows nothing: such a response opened as a document runs no script and loads
  nothing. The OpenAPI viewers at ``/schema`` pull their scripts from CDNs, so they stay blank under the HTML
  policy; the document they show is served at ``/schema/openapi.json``.
- A ``304 Not Modified`` carries no policy: its headers update the stored response's, whose policy is the right one.

Responses that hold one person's data or a secret (:func:`is_private`: the organisers' API, an attendee's own
resources and tokens, link codes, push subscriptions, calendar feeds) also carry ``Cache-Control: no-store``,
replacing whatever the route said, errors included: no browser cache, proxy or shared device keeps a copy.

The public, credential-free reads in :data:`PUBLIC_READS` (the schedule exports and the programme) also carry
``Access-Control-Allow-Origin: *``, so schedule viewers on other sites can read them. Nothing else does: not the
private agenda feeds, not the attendee or organiser routes; and ``Access-Control-Allow-Credentials`` is never sent,
so a browser never attaches cookies or credentials to such a read.

One source of truth: routes do not set these headers. A header a response already carries is never replaced or
duplicated, so a route that needs a more specific value (another policy, say) sets it itself and keeps it.
"""

from __future__ import annotations

from litestar.types import BeforeMessageSendHookHandler, Message, Scope

#: HTML pages and scripts: the app runs from its own origin and nothing else.
APP_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "manifest-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
#: Every other response: nothing may load or run in it, and nothing may frame it.
RESOURCE_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
#: Powerful features no page of Kumpul uses, refused to the pages and to anything they might embed (only features
#: Chromium knows: it warns of any other). Notifications and push are not policy-controlled; the clipboard (copying a
#: calendar address or a password) stays allowed.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), browsing-topics=(), camera=(), display-capture=(), "
    "geolocation=(), gyroscope=(), hid=(), idle-detection=(), local-fonts=(), magnetometer=(), microphone=(), "
    "midi=(), payment=(), publickey-credentials-get=(), screen-wake-lock=(), serial=(), usb=(), "
    "xr-spatial-tracking=()"
)
#: Two years; sent only over https, so a plain-http development server never pins a browser to https.
HSTS = "max-age=63072000"

#: Paths any origin may read: public, the same for everyone, and needing no credentials.
PUBLIC_READS = frozenset(
    {
        "/api/schedule.ics",
        "/api/schedule.xml",
        "/api/schedule.json",
        "/api/programme",
        "/api/changes.atom",
        "/api/releases",
    }
)

CSP = b"content-security-policy"
_ANY_ORIGIN = (b"access-control-allow-origin", b"*")
_COMMON: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", PERMISSIONS_POLICY.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)
_HSTS = (b"strict-transport-security", HSTS.encode())
_APP_POLICY = APP_POLICY.encode()
_RESOURCE_POLICY = RESOURCE_POLICY.encode()
#: Media types whose responses get :data:`APP_POLICY`.
_APP_TYPES = (b"text/html", b"text/javascript", b"application/javascript")


#: Path prefixes of private responses: each matches itself and everything below it.
PRIVATE_PREFIXES = ("/api/admin", "/api/attendees", "/api/me", "/api/calendar", "/api/push/subscriptions")
_CACHE_CONTROL = b"cache-control"
_NO_STORE = (_CACHE_CONTROL, b"no-store")


def is_private(path: str) -> bool:
    """Whether responses to ``path`` are one person's (or carry a secret) and must never be stored.

    Classified by path rather than by route, so every answer on these paths is covered, refusals and errors
    included; tests/server/test_security_headers.py checks that every route taking credentials falls here.
    """
    return any(path == prefix or path.startswith(prefix + "/") for prefix in PRIVATE_PREFIXES)


def is_https(scope: Scope, *, trust_proxy: bool) -> bool:
    """Whether the browser reached the server over https: the connection's scheme, or a trusted proxy's word."""
    if scope.get("scheme") == "https":
        return True
    if not trust_proxy:
        return False
    for name, value in scope.get("headers", ()):
        if name.lower() == b"x-forwarded-proto":
            return value.split(b",")[0].strip().lower() == b"https"
    return False


def security_headers(
    scope: Scope, content_type: bytes | None, status: int = 200, *, trust_proxy: bool
) -> list[tuple[bytes, bytes]]:
    """The security headers of a response to the request of ``scope``, as ASGI header pairs.

    Args:
        scope: The request's ASGI scope (its scheme and headers decide Strict-Transport-Security).
        content_type: The response's ``Content-Type`` value, or None when it has none.
        status: The response's status code (a 304 carries no content security policy).
        trust_proxy: Believe a reverse proxy's ``X-Forwarded-Proto``.

    Returns:
        Lower-case header names with their values, for every response of the server.
    """
    headers = list(_COMMON)
    if status != 304:
        media_type = (content_type or b"").split(b";")[0].strip().lower()
        headers.append((CSP, _APP_POLICY if media_type in _APP_TYPES else _RESOURCE_POLICY))
    if is_https(scope, trust_proxy=trust_proxy):
        headers.append(_HSTS)
    if scope.get("path") in PUBLIC_READS:
        headers.append(_ANY_ORIGIN)
    return headers


def add_security_headers(message: Message, scope: Scope, *, trust_proxy: bool) -> None:
    """Add the security headers a response's start message lacks (other messages pass unchanged)."""
    if message["type"] != "http.response.start":
        return
    present = list(message.get("headers") or ())
    if is_private(scope.get("path", "")):
        present = [header for header in present if header[0].lower() != _CACHE_CONTROL]
        present.append(_NO_STORE)
    names = {name.lower() for name, _ in present}
    content_type = next((value for name, value in present if name.lower() == b"content-type"), None)
    extra = security_headers(scope, content_type, message["status"], trust_proxy=trust_proxy)
    present.extend(header for header in extra if header[0] not in names)
    message["headers"] = present


def security_headers_hook(*, trust_proxy: bool) -> BeforeMessageSendHookHandler:
    """A Litestar ``before_send`` hook that adds the security headers to every response of the app.

    Args:
        trust_proxy: Believe a reverse proxy's ``X-Forwarded-Proto`` (``Settings.trust_proxy``).
    """

    async def before_send(message: Message, scope: Scope) -> None:
        add_security_headers(message, scope, trust_proxy=trust_proxy)

    return before_send
