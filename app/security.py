"""HTTP hardening for the app: response headers, cross-site request refusal, strict integers.

`install(app)` registers both hooks; `web.create_app` calls it once.

CSRF: the app has no accounts, sessions or cookies, so there is no session to bind a token to
and no ambient credential a forged request could ride on, except the network position of the
victim's browser (only `albIngressCidrs` / `hostIngressCidrs` may reach the app). We therefore
refuse cross-origin writes by the browser's own provenance headers, the way Go's
`net/http.CrossOriginProtection` does, instead of a token (which would need a signing key shared by
every worker and host, plus a cookie):

1. GET/HEAD/OPTIONS are never refused (they change nothing).
2. `Sec-Fetch-Site` present (every current browser on HTTPS and on localhost): allow only
   `same-origin` (and `none`: the user's own navigation); refuse `same-site` and `cross-site`.
3. Otherwise `Origin` present (browsers send it on every POST; over plain HTTP to a non-local
   host Sec-Fetch-* is not sent, Origin is): allow only when its host[:port] equals `Host`;
   `Origin: null` (sandboxed frames, privacy redirects) is refused.
4. Neither header: not a browser (curl, SDKs, the tests' API clients): allowed; such a client
   could send any header anyway. Browsers too old to send either (pre-2019) are not protected.
`Referrer-Policy: same-origin` keeps step 3 working: with `no-referrer` a browser would send
`Origin: null` even on our own form.

HSTS: sent only on responses to HTTPS requests. Behind the ALB, TLS ends at the ALB, which sets
`X-Forwarded-Proto`; we trust that header for this one decision (never for URLs, redirects or
client addresses). In prod the host's security group admits only the ALB; a client reaching a
public dev host directly can forge the header, but then it only receives an HSTS header over
plain HTTP, which browsers ignore (RFC 6797 section 8.1), so the trust costs nothing.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})
# One year; no includeSubDomains: the app's domain may be an apex whose other hosts we don't own.
HSTS = "max-age=31536000"
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
                          "microphone=(), payment=(), usb=(), browsing-topics=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_DECIMAL = re.compile(r"[1-9][0-9]{0,17}")  # ASCII only; 18 digits bounds the work before int()


def parse_positive_int(raw: str | None, maximum: int) -> int | None:
    """`raw` as an int in 1..maximum, or None. Only plain ASCII decimal digits without sign,
    spaces, underscores or leading zeros: `int()` alone would accept ' 5', '+5', '1_0' and '٥',
    and `str.isdigit()` accepts '²', which `int()` then rejects."""
    if raw is None or not _DECIMAL.fullmatch(raw):
        return None
    value = int(raw)
    return value if value <= maximum else None


def is_https(req=request) -> bool:
    """The client's connection was HTTPS: directly, or at the ALB (its X-Forwarded-Proto; the
    last value is the one the nearest proxy appended)."""
    forwarded = req.headers.get("X-Forwarded-Proto", "")
    return req.scheme == "https" or forwarded.rsplit(",", 1)[-1].strip().lower() == "https"


def cross_origin_reason(req=request) -> str | None:
    """Why this request is a refused cross-origin write, or None when it is allowed."""
    if req.method in SAFE_METHODS:
        return None
    site = req.headers.get("Sec-Fetch-Site")
    if site is not None:
        return None if site in ALLOWED_FETCH_SITES else f"Sec-Fetch-Site is {site!r}"
    origin = req.headers.get("Origin")
    if origin is None:
        return None
    host = urlsplit(origin).netloc if origin != "null" else ""
    if host and host.lower() == req.host.lower():
        return None
    return f"Origin {origin!r} does not match the host {req.host!r}"


def _refuse_cross_origin():
    reason = cross_origin_reason()
    if reason is None:
        return None
    message = f"cross-origin request refused: {reason}; submit the form from this site"
    if request.path.startswith("/api/"):
        return jsonify(error=message), 403
    return Response(message + "\n", status=403, mimetype="text/plain")


def _add_headers(resp: Response) -> Response:
    for name, value in HEADERS.items():
        resp.headers.setdefault(name, value)
    if is_https():
        resp.headers.setdefault("Strict-Transport-Security", HSTS)
    return resp


def install(app: Flask) -> None:
    """Refuse cross-origin writes before any other hook runs; add the headers to every response."""
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_cross_origin)
    app.after_request(_add_headers)
