"""Sign-in form CSRF, page headers and safe redirects for the web pages.

The session itself (cookie, lookup, CSRF check of a signed-in request) is ``cmdb.auth``'s.
"""

from __future__ import annotations

from urllib.parse import urlsplit

SIGNIN_COOKIE = "cmdb_signin"  # double-submit CSRF token of the sign-in form (no session yet)
CSRF_FIELD = "csrf_token"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}




def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to after signing in; anything else becomes ``default``."""
    if not target or len(target) > 2000 or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7f for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
