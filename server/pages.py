"""The human-facing pages: the drawing page and the API documentation."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from server.errors import PROBLEMS

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/docs")
def docs():
    state = current_app.extensions["digits"]
    return render_template("docs.html", model_name=state.name, config=current_app.config,
                           problems=PROBLEMS.items())
