"""gunicorn's threaded worker, with each request's head read by the event loop, not a thread.

Why a subclass at all: stock ``gthread`` hands a connection to one of its few threads as
soon as the connection is accepted (or, kept alive, becomes readable); the thread waits up
to 5 s for a first byte and then blocks reading the request. A client that sends its
headers a byte at a time (slowloris), or nothing at all, holds a thread for as long as it
likes; 50 such connections starve a 2×4-thread server, health checks included. A buffering
reverse proxy in front (README, "Deploy") removes the problem for a deployment; this worker
keeps a bare container safe too. Here the worker's event loop reads, without blocking, until the
head is complete (and, when it declares a Content-Length up to :data:`BUFFER_BODY`, the
body too) and only then gives the connection to a thread, with the bytes read so far.
A request that is not complete within :data:`HEAD_TIMEOUT` is answered 408 and closed.
Once in a thread, every socket read or write waits at most :data:`IO_TIMEOUT`.

HTTP/1.1 only (gunicorn's default ``http_protocols = "h1"``). It uses these internals of
gunicorn 27's ``gthread`` — :data:`GTHREAD_INTERNALS` — so gunicorn is pinned exactly
(requirements.txt), and ``tests/test_faults.py`` fails if an upgrade moves any of them or
lets slow clients starve the health routes again.
"""
from __future__ import annotations

import errno
import re
import selectors
import time
from collections import OrderedDict
from functools import partial

from gunicorn.workers import gthread

#: What this module takes from gunicorn.workers.gthread beyond its public settings.
GTHREAD_INTERNALS = {
    "module": ("STOP_KEEPALIVE_LINGER",),
    "TConn": ("init", "parser", "sock", "data_ready", "close"),
    "ThreadWorker": ("init_process", "accept", "on_client_socket_readable", "enqueue_req", "murder_pending",
                     "poller", "keepalived_conns", "nr_conns", "alive"),
}

HEAD_TIMEOUT = 10.0          # seconds from the first moment we wait for a request to its end
BUFFER_BODY = 256 * 1024     # bodies up to this size are read by the event loop too
MAX_HEAD = 64 * 1024         # a head this long goes to gunicorn's parser, which refuses it
IO_TIMEOUT = 10.0            # per blocking read or write, once a thread has the connection
STOP_LINGER = gthread.STOP_KEEPALIVE_LINGER  # seconds a silent connection may stay while stopping
_CONTENT_LENGTH = re.compile(rb"\r?\ncontent-length[ \t]*:[ \t]*(\d{1,12})[ \t]*\r?\n", re.IGNORECASE)
_EXPECT = re.compile(rb"\r?\nexpect[ \t]*:", re.IGNORECASE)
_TIMED_OUT_BODY = b"The request did not arrive in time.\n"
_TIMED_OUT = (b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (len(_TIMED_OUT_BODY), _TIMED_OUT_BODY))


def request_complete(buffered: bytes | bytearray) -> bool:
    """Whether ``buffered`` holds a whole request head (and its body, when small and sized)."""
    end = buffered.find(b"\r\n\r\n")
    size = 4
    if end < 0:
        end, size = buffered.find(b"\n\n"), 2
    if end < 0:
        return len(buffered) >= MAX_HEAD
    match = _CONTENT_LENGTH.search(buffered, 0, end + size)
    if match is None or int(match.group(1)) > BUFFER_BODY or _EXPECT.search(buffered, 0, end + size):
        # No body, a chunked or large one, or a client waiting for "100 Continue" (which
        # gunicorn sends once a thread has the request): the thread reads the body.
        return True
    return len(buffered) >= end + size + int(match.group(1))


class Connection(gthread.TConn):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.buffered = bytearray()
        self.waiting_since = 0.0
        self.deadline = 0.0

    def init(self):
        # Runs in the thread, after gthread made the socket blocking; every time, not only
        # the first (the parent returns early for a kept-alive connection).
        super().init()
        self.sock.settimeout(IO_TIMEOUT)
        if self.buffered:
            self.parser.unreader.unread(bytes(self.buffered))
            self.buffered = bytearray()


class HeadFirstWorker(gthread.ThreadWorker):
    def init_process(self):
        self.reading: OrderedDict[Connection, None] = OrderedDict()  # by deadline
        super().init_process()

    def accept(self, listener):
        try:
            sock, client = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._read_request(Connection(self.cfg, sock, client, listener.getsockname()))

    def on_client_socket_readable(self, conn, client):
        # A kept-alive connection has a new request coming.
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._read_request(conn)

    def _read_request(self, conn):
        conn.sock.setblocking(False)
        conn.waiting_since = time.monotonic()
        conn.deadline = conn.waiting_since + HEAD_TIMEOUT
        self.reading[conn] = None
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_data, conn))
        self._on_data(conn, conn.sock)  # the request is often there already: no extra turn

    def _on_data(self, conn, _sock):
        if conn not in self.reading:
            return
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._drop(conn)
            return
        conn.buffered += data
        if request_complete(conn.buffered):
            self.poller.unregister(conn.sock)
            del self.reading[conn]
            conn.data_ready = True  # gthread then skips its own wait for the first byte
            self.enqueue_req(conn)

    def _drop(self, conn, answer: bytes = b""):
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        self.reading.pop(conn, None)
        self.nr_conns -= 1
        if answer:
            try:
                conn.sock.send(answer)  # best effort: never block the event loop
            except OSError:
                pass
        conn.close()

    def murder_pending(self):
        # Called on every turn of gthread's loop, also while stopping.
        super().murder_pending()
        now = time.monotonic()
        while self.reading:
            conn = next(iter(self.reading))
            if conn.deadline > now:
                break
            self._drop(conn, _TIMED_OUT if conn.buffered else b"")
        if not self.alive:
            # Stopping: a connection that has sent nothing for STOP_LINGER gets nothing
            # (gunicorn then exits without waiting out its graceful timeout).
            for conn in [c for c in self.reading if not c.buffered and now - c.waiting_since >= STOP_LINGER]:
                self._drop(conn)
