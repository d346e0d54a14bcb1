"""Production server: ``gunicorn -c gunicorn.conf.py "app:create_app()"``.

Every setting can be changed from the environment (see the README):
PORT, WEB_CONCURRENCY, GUNICORN_THREADS, GUNICORN_TIMEOUT, GRACEFUL_TIMEOUT, KEEPALIVE,
PROMETHEUS_MULTIPROC_DIR.
"""
import os
import shutil
import socket
import sys
import tempfile

# One BLAS thread per worker: the network is tiny, and threads from several workers
# fighting over 2 cores cost far more than they give. Set before the app (and numpy)
# is imported, which preload_app does in the master.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


# glibc gives a freed buffer back to the system only if it was mmapped, and its dynamic
# mmap threshold soon rises past the big ones (a 2048×2048 PNG decodes to 16 MB), so each
# thread's arena keeps its high-water mark: worker RSS grew by 55 MB over six passes of the
# hostile catalogue. A fixed 1 MiB threshold keeps it at +10 MB (tests/test_hostile.py,
# docs/operations.md). Fixing it also fixes the trim threshold at its 128 KiB default, and
# then every request's buffers (a canvas PNG inflates to 314 KB) were handed back and
# faulted in again, 64 page faults a request (bench/serve_latency.py --profile); so free
# memory up to the same 1 MiB stays at the top of an arena. Set here, in the master before
# the app loads, so the workers inherit it; MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_
# in the environment win. glibc only; elsewhere a no-op.
def _fixed_mmap_threshold(size: int = 1 << 20) -> None:
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, size)  # -3: M_MMAP_THRESHOLD
        libc.mallopt(-1, size)  # -1: M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


_fixed_mmap_threshold()


# GET /metrics (server/metrics.py) counts every worker with prometheus_client's multiprocess
# mode: each process writes its values to memory-mapped files in PROMETHEUS_MULTIPROC_DIR,
# and a scrape adds up every process's files. prometheus_client reads the variable when it
# is first imported, so it is set here, before preload_app imports the app in the master;
# the workers inherit it. The default is a directory of this master's own in /dev/shm
# (memory, and writable under a read-only root filesystem, like the heartbeat files below;
# the temp dir where there is no /dev/shm), removed when the master exits. A directory set
# in the environment is used instead. Either way it is emptied now: counts start at zero
# with the server, never added to an earlier server's. DIGITS_METRICS_PID names the process
# that did this: gunicorn reads this file again on SIGHUP (keep the counts then), and a
# server started by another one must not take over its parent's default directory.
def _metrics_dir() -> str:
    pid = str(os.getpid())
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    prepared_by = os.environ.get("DIGITS_METRICS_PID", "")
    if prepared_by == pid and path:
        return path
    base = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
    if not path or path == os.path.join(base, f"digits-metrics-{prepared_by}"):
        path = os.path.join(base, f"digits-metrics-{pid}")
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    os.environ["DIGITS_METRICS_PID"] = pid
    return path


_METRICS_DIR = _metrics_dir()


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # honours container CPU sets
    except AttributeError:
        return os.cpu_count() or 1


bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Two workers per CPU. A Python worker uses one core at most, and connections (kept alive
# by the page and by clients) are spread over the workers at random when they open: with one
# worker per CPU, the unlucky worker saturates while the other idles (bench/load.py, 64
# drawers on 2 CPUs: workers at 43% / 89%, p99 399 ms). With two per CPU the kernel's
# scheduler evens out the CPU time: 64 drawers held at p99 25 ms. Each extra worker costs
# about 20 MB of private memory (docs/operations.md).
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * _cpu_count())
# Threads give each worker keep-alive connections and overlap socket I/O; the work
# itself holds the GIL, so a few are enough. server/worker.py is gunicorn's gthread worker
# with each request's head read by the event loop, so slow or silent clients hold no thread.
worker_class = "server.worker.HeadFirstWorker"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Each worker listens on its own SO_REUSEPORT socket and the kernel spreads new connections
# evenly over them. On one shared socket, one worker's event loop accepts nearly every
# connection (bench/load.py measured 96% / 0% CPU between two workers), and keep-alive
# keeps them there: half the cores idle while the other half queues. The master holds the
# address without listening (on_starting, below), to name it and to refuse a second server.
reuse_port = True
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


def pre_fork(server, worker):
    """Freeze what the master has loaded (Flask, numpy, the model: ~40,000 objects) out of
    the cyclic garbage collector's reach: a worker's full collections then walk only what
    it made itself (12 µs per request on average down to 1, and no occasional pause over
    everything), and never write to — so never copy — the pages it shares with the master."""
    import gc

    gc.freeze()


def child_exit(server, worker):
    """A worker exited or was killed: prometheus_client drops its live gauges (its counters
    stay in the sum, so totals never go backwards)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics directory this master made; one set in the environment stays."""
    if os.path.basename(_METRICS_DIR) == f"digits-metrics-{os.getpid()}":
        shutil.rmtree(_METRICS_DIR, ignore_errors=True)


class _HeldAddress:
    """The address gunicorn serves on, bound by the master and never listened on.

    With ``reuse_port`` gunicorn 27 creates no socket in the master (each worker binds and
    listens on its own, see ``Arbiter.spawn_worker``), so the master's "Listening at:" line
    had nothing to name: ``Listening at:  (2797)``. This socket names it. It does not listen,
    so the kernel never hands it a connection (only listening sockets take part in
    SO_REUSEPORT's distribution). It is bound first *without* SO_REUSEPORT, which the kernel
    refuses while anything listens on the port: a second server on the same port now fails
    at once ("Connection in use") instead of silently sharing the connections with the
    first. SO_REUSEPORT is set after the bind, so the workers can bind beside it (and before
    it in a master re-executed by SIGUSR2, whose predecessor's workers still listen)."""

    def __init__(self, address: tuple, scheme: str, exclusive: bool):
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.scheme = scheme
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if not exclusive:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            self.sock.bind(address)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        except OSError:
            self.sock.close()
            raise

    def __str__(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"{self.scheme}://{f'[{host}]' if ':' in host else host}:{port}"

    def __getattr__(self, name: str):
        return getattr(self.sock, name)  # fileno(), getsockname(), ... as gunicorn's own do

    def get_backlog(self) -> int:
        return -1  # nothing queues here (gunicorn's enable_backlog_metric)


def on_starting(server):
    """Before gunicorn would create its listeners: with reuse_port, hold the address."""
    if not (server.cfg.reuse_port and hasattr(socket, "SO_REUSEPORT")) or server.LISTENERS:
        return
    if not all(isinstance(address, tuple) for address in server.cfg.address):
        return  # a unix socket: nothing to hold
    scheme = "https" if server.cfg.is_ssl else "http"
    held = []
    for address in server.cfg.address:
        try:
            held.append(_HeldAddress(address, scheme, exclusive=not server.master_pid))
        except OSError as exc:
            for h in held:
                h.close()
            server.log.error("Connection in use: %s (%s): another server listens there",
                             address, exc.strerror)
            sys.exit(1)
    server.LISTENERS = held
