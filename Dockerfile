ARG PYTHON_IMAGE=python:3.12-slim
FROM ${PYTHON_IMAGE}

# Draw a Digit: the Flask app under gunicorn, non-root, weights baked in.
#   docker build -t digits .
#   docker run -p 8000:8000 digits
# See the README's "Deploy" section for the environment variables, a reverse proxy and Kubernetes.

# One BLAS thread per process: gunicorn runs one worker per core already, and
# our matrices (16×784) are far too small to gain from threads; extra threads
# would only fight the other workers for the same cores. Two malloc arenas: a
# worker's threads take turns under the GIL anyway, and glibc's default of one
# arena per thread cost each worker ~2 MiB of RSS (46 vs 47-49 MiB measured).
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OPENBLAS_NUM_THREADS=1 \
    OMP_NUM_THREADS=1 \
    MKL_NUM_THREADS=1 \
    MALLOC_ARENA_MAX=2 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PORT=8000

# A fixed numeric uid/gid so Kubernetes' runAsNonRoot can verify it and file
# ownership on mounted volumes is predictable.
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin app

# Dependencies before the code, so editing the app does not reinstall numpy.
# Wheels only (no compilers in the image); pip itself and numpy's test suites
# are removed from the venv because nothing at run time needs them. The .pyc
# files pip compiles are kept: the root filesystem may be read-only, and
# compiling numpy on every start would slow readiness.
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
 && /opt/venv/bin/python -m pip install --no-cache-dir --only-binary=:all: \
        -r /tmp/requirements.txt \
 && /opt/venv/bin/python -m pip uninstall --yes --quiet pip setuptools \
 && find /opt/venv/lib/python*/site-packages/numpy -depth -type d -name tests \
        -exec rm -rf {} + \
 && rm -rf /tmp/requirements.txt /root/.cache

WORKDIR /app
# Only what runs; .dockerignore keeps tests, docs, caches and .git out as well.
COPY requirements.txt app.py gunicorn.conf.py ./
COPY model/ model/
COPY server/ server/
COPY templates/ templates/
COPY static/ static/
COPY weights/ weights/
# Fail the build, not the first request, if the weights were not committed.
RUN test -s weights/mnist-784-16-16-10.npz \
 && test -s weights/mnist-784-16-16-10.json \
 && test -s weights/examples.npz \
 && python -m compileall -q app.py gunicorn.conf.py model server

USER 10001:10001
EXPOSE 8000

# Exec form, so gunicorn is PID 1 and receives SIGTERM itself: it stops
# accepting, lets in-flight requests finish (GRACEFUL_TIMEOUT) and exits 0.
STOPSIGNAL SIGTERM

# Slim images have no curl; http.client (not urllib) so that an HTTP_PROXY in
# the environment is never consulted for a loopback probe.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import http.client as h, os, sys; c = h.HTTPConnection('127.0.0.1', int(os.environ.get('PORT') or 8000), timeout=2); c.request('GET', '/v2/health/ready'); sys.exit(c.getresponse().status != 200)"]

CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"]
