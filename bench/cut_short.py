"""The real app with a PNG's preprocessing cut short: what its later stages cost, over HTTP.

    CUT_SHORT_AFTER=base64|decode gunicorn -c gunicorn.conf.py "bench.cut_short:create_app()"

Used by ``bench/serve_latency.py --cut-short-after``. Every route, setting and check is the
production one, except that a PNG's preprocessing stops after the named stage —
``base64`` (the data URL read and the PNG header checked) or ``decode`` (Pillow's decode
as well) — and the drawing is answered with the preprocessing the first PNG of the
process got in full. The predict p50 over the floor's then says what everything but the
stages left out costs: the part of the canvas-PNG latency goal that no change to finding
the ink, fitting and centring, or the stroke width could win back. Never served.
"""
from __future__ import annotations

import os

from model import preprocess
from model.preprocess import decode

STAGES = ("base64", "decode")
_full_png = preprocess.from_png


def create_app():
    stage = os.environ.get("CUT_SHORT_AFTER", "")
    if stage not in STAGES:
        raise SystemExit(f"CUT_SHORT_AFTER must be one of {', '.join(STAGES)} (got {stage!r})")
    first = []

    def from_png(data):
        png = decode.png_bytes(data)
        size = decode.check_header(png)
        if stage == "decode":
            decode.decode(png, size)
        if not first:
            first.append(_full_png(data))
        return first[0]

    preprocess.from_png = from_png  # server/api.py looks it up on the module at each request
    from app import create_app as real_app
    return real_app()
