"""Security headers on every response.

The page runs under a strict Content-Security-Policy: scripts and styles only from our
own origin (no ``unsafe-inline``), no framing, no plugins.
"""
from __future__ import annotations

from flask import Flask, Response

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    # Checked by browsers for no-cors requests only (<img>, <script>): a fetch() from an
    # origin in CORS_ORIGINS is a CORS request and passes (server/cors.py).
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


def register(app: Flask) -> None:
    @app.after_request
    def add_security_headers(response: Response) -> Response:
        # One pass over the few headers the response has (setdefault would look each of ours
        # up by raising and catching a KeyError: a tenth of a small request's time).
        present = {name.lower() for name in response.headers.keys()}
        response.headers.extend([(name, value) for name, value in HEADERS.items() if name.lower() not in present])
        return response
