"""The human-facing pages: the drawing page and the API documentation."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from model import explain
from model.preprocess import MAX_SIDE
from server.api import MAX_EXAMPLES
from server.errors import PROBLEMS
from server.state import current_state

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/docs")
def docs():
    state = current_state()
    return render_template("docs.html", model_name=state.name, config=current_app.config, rule=state.rule,
                           problems=PROBLEMS.items(), max_side=MAX_SIDE, max_examples=MAX_EXAMPLES,
                           explain=explain, run=state.run)
