"""HTTP hardening: security headers (HSTS on HTTPS), cross-origin write refusal, strict integers,
the one rule for user text (`clean_text`).
`install(app)` registers the hooks. Why Sec-Fetch-Site/Origin and not a CSRF token, and why
X-Forwarded-Proto is trusted for HSTS only: README, "The app's HTTP security".
"""
from __future__ import annotations

import re
import unicodedata
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
# Refused in user text besides control characters (Cc) and lone surrogates (Cs, not UTF-8):
# line/paragraph separators (they break lines where a reader does not expect one), and, as a
# deliberate anti-spoofing rule, the bidi embedding/override/isolate controls (U+202A-U+202E,
# U+2066-U+2069: "Trojan Source"-style reordering of what others read). Every other format
# character is real text: ZWNJ/ZWJ (Persian, Indic scripts, emoji sequences), soft hyphen, LRM/RLM,
# tag characters (subdivision flags); so are no-break spaces and code points newer than Python's
# Unicode tables (str.isprintable() refuses all of these).
REFUSED_FORMAT = frozenset("\u2028\u2029") | frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
_DECIMAL = re.compile(r"[1-9][0-9]{0,17}")  # ASCII only; 18 digits bounds the work before int()


def parse_positive_int(raw: str | None, maximum: int) -> int | None:
    """`raw` as an int in 1..maximum, or None. Only plain ASCII decimal digits without sign,
    spaces, underscores or leading zeros: `int()` alone would accept ' 5', '+5', '1_0' and '٥',
    and `str.isdigit()` accepts '²', which `int()` then rejects."""
    if raw is None or not _DECIMAL.fullmatch(raw):
        return None
    value = int(raw)
    return value if value <= maximum else None


def clean_text(value: str, allow: str = "") -> bool:
    """No control character (but those in `allow`, e.g. "\\n\\t"), lone surrogate, line or
    paragraph separator, or bidi override/isolate control in `value` (REFUSED_FORMAT)."""
    return not any(c not in allow and (c in REFUSED_FORMAT or unicodedata.category(c) in ("Cc", "Cs"))
                   for c in value)


def json_body(req=request):
    """The request's JSON body, or None when it is missing or is not JSON. A document nested
    deeper than Python's parser recurses (16 KiB of '[' fits MAX_CONTENT_LENGTH) raises
    RecursionError, not ValueError, past `silent=True`: it is not JSON we accept either."""
    try:
        return req.get_json(silent=True)
    except RecursionError:
        return None


def is_https(req=request) -> bool:
    """The client's connection was HTTPS: directly, or at the ALB (its X-Forwarded-Proto; the
    last value is the one the nearest proxy appended)."""
    forwarded = req.headers.get("X-Forwarded-Proto", "")
    return req.scheme == "https" or forwarded.rsplit(",", 1)[-1].strip().lower() == "https"


def cross_origin_reason(req=request) -> str | None:
    """Why this request is a refused cross-origin write, or None when it is allowed (the rules
    of Go's net/http.CrossOriginProtection)."""
    if req.method in SAFE_METHODS:
        return None
    site = req.headers.get("Sec-Fetch-Site")  # every current browser, on HTTPS and localhost
    if site is not None:
        return None if site in ALLOWED_FETCH_SITES else f"Sec-Fetch-Site is {site!r}"
    origin = req.headers.get("Origin")  # browsers send it on every POST, also over plain HTTP
    if origin is None:  # not a browser (curl, SDKs): it could forge any header anyway
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
