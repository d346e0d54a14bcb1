# The two commands of the README:
#   make run    set everything up and serve the app on http://localhost:8000
#   make test   set everything up (Python packages, Chromium, podman) and run every test
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
	PORT=$(PORT) $(VENV)/bin/gunicorn -c gunicorn.conf.py "app:create_app()"

# Debian packages the browser and container tests need (Chromium, podman): as root.
system-deps:
	bash .ci/system-deps

test: system-deps $(VENV)/.dev
	$(PY) -m training.mnist >/dev/null
	$(PY) -m pytest

# Everything but the browser and container tests: a quick loop while developing.
test-fast: $(VENV)/.dev
	$(PY) -m pytest -m "not browser and not container"
