"""Production server: ``gunicorn -c gunicorn.conf.py "app:create_app()"``.

Every setting can be changed from the environment (see the README):
PORT, WEB_CONCURRENCY, GUNICORN_THREADS, GUNICORN_TIMEOUT, GRACEFUL_TIMEOUT, KEEPALIVE.
"""
import os

# One BLAS thread per worker: the network is tiny, and threads from several workers
# fighting over 2 cores cost far more than they give. Set before the app (and numpy)
# is imported, which preload_app does in the master.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # honours container CPU sets
    except AttributeError:
        return os.cpu_count() or 1


bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or _cpu_count())
# Threads give each worker keep-alive connections and overlap socket I/O; the work
# itself holds the GIL, so a few are enough.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Load the weights once in the master; workers share the pages after fork.
preload_app = True
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "5"))
keepalive = int(os.environ.get("KEEPALIVE", "5"))
# Heartbeat files in RAM, not on a possibly slow or read-only disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# gunicorn's control socket lives under $HOME, which is read-only (or absent) in the
# container; we manage the server with signals, so do without it.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms'
# Request line and header limits (gunicorn's defaults, stated so they are visible).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
