"""Draw a Digit: the Flask application factory.

``create_app()`` reads settings (defaults below, each overridable from the environment),
loads the network once for the process, and registers the routes:

- ``server.pages``: the drawing page and ``/docs``;
- ``server.api``: ``/api/predict``, ``/api/model``, ``/api/examples``;
- ``server.explain``: ``/api/explain`` (why this answer; what one example would teach);
- ``server.training``: ``/api/training`` and ``/api/training/<id>`` (the run that made the network);
- ``server.openapi``: ``/openapi.json``;
- ``server.oip``: the Open Inference Protocol v2 under ``/v2``;
- ``server.metrics``: ``/metrics`` for Prometheus (and the counting behind it).

Production: ``gunicorn -c gunicorn.conf.py "app:create_app()"``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from flask import Flask

from server import api, cors, errors, explain, metrics, oip, openapi, pages, security, training
from server.json_provider import OrjsonProvider
from server.state import load_state

ROOT = Path(__file__).resolve().parent

#: Settings and their defaults. Every key can be overridden by an environment variable
#: of the same name (parsed to the default's type); documented in the README.
DEFAULTS: dict[str, Any] = {
    "WEIGHTS_PATH": str(ROOT / "weights" / "mnist-784-16-16-10.npz"),
    # The model card beside the weights (same name, .json) unless set.
    "MODEL_CARD_PATH": "",
    "EXAMPLES_PATH": str(ROOT / "weights" / "examples.npz"),
    # The training run's snapshots (<name>.checkpoints.npz, its .checkpoints.json beside
    # it) for /api/training; beside the weights unless set.
    "CHECKPOINTS_PATH": "",
    # Largest request body in bytes; a 2048×2048 canvas PNG of a digit is far smaller.
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    # Most inputs in one batch request ({"inputs": [...]}, or N in an OIP infer).
    "MAX_BATCH": 64,
    # The answer rule's thresholds come with the weights (the model card's "verdict"); these
    # override them when set: "not a digit" below UNCERTAIN_MIN_CONFIDENCE, "unsure" when the
    # runner-up reaches UNCERTAIN_MAX_RATIO of the winner (compared as the card says).
    "UNCERTAIN_MIN_CONFIDENCE": "",
    "UNCERTAIN_MAX_RATIO": "",
    # Number of proxies in front whose X-Forwarded-* headers are trusted (0: none).
    "TRUSTED_PROXIES": 0,
    # Origins whose pages may call /api/* and /v2/* from a browser (CORS): exact origins,
    # comma-separated, e.g. "https://course.example.org,http://localhost:3000". Empty: none.
    "CORS_ORIGINS": "",
}


def settings_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Defaults overridden by same-named environment variables, typed like the defaults."""
    settings = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        raw = environ.get(key)
        if raw is None or raw == "":
            continue
        try:
            settings[key] = type(default)(raw)
        except ValueError:
            raise ValueError(f"environment variable {key}={raw!r} is not a valid "
                             f"{type(default).__name__}") from None
    return settings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(settings_from_env(os.environ))
    if config:
        app.config.update(config)
    # Every response is written by one JSON provider (server/json_provider.py says why orjson),
    # in the order the code builds it, compactly, UTF-8 as it is.
    app.json = OrjsonProvider(app)

    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=n)

    app.extensions["digits"] = load_state(app.config, app.logger)

    metrics.register(app)  # first: its clock starts before, and its count follows, every other hook
    errors.register(app)
    security.register(app)
    cors.register(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(explain.bp)
    app.register_blueprint(training.bp)
    app.register_blueprint(oip.bp)
    app.register_blueprint(openapi.bp)
    return app
