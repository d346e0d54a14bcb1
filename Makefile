# The two commands of the README:
#   make run    set everything up and serve the app on http://localhost:8000
#   make test   set everything up (Python packages, Chromium, a container engine) and run every test
#
# PYTHON_IMAGE (make variable or environment) names the base image the container tests build
# the Dockerfile FROM; unset, the Dockerfile's python:3.12-slim. For machines without access
# to an image registry: make test PYTHON_IMAGE=<a local Python 3.12 image>.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test test-fast system-deps bench

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	@echo "Draw a Digit: http://localhost:$(PORT)  (Ctrl-C stops it)"
	PORT=$(PORT) $(VENV)/bin/gunicorn -c gunicorn.conf.py "app:create_app()"

# Debian packages the browser and container tests need (Chromium; Docker or podman): as root.
system-deps:
	bash scripts/system-deps

test: system-deps $(VENV)/.dev
	$(PY) -m training.mnist >/dev/null
	$(PY) -m pytest

# Everything but the browser and container tests: a quick loop while developing.
test-fast: $(VENV)/.dev
	$(PY) -m pytest -m "not browser and not container"
