/**
 * Newest request wins: at most one request in flight, a newer one aborts it, and an
 * answer (or error) that arrives after a newer request was issued is dropped.
 *
 * Knows nothing of the DOM or the network: a job is whatever `predict(job, signal)`
 * takes, and comes back unchanged to `onAnswer(result, job, seq)` / `onError(err, job, seq)`.
 * Every request gets a number, `seq`; cancelling takes a number too, so anything still on
 * its way is stale.
 *
 *   soon(make)  while drawing: at most one request per `throttleMs`, never two at once;
 *               `make()` builds the job when it is actually sent, so it carries the
 *               newest drawing. Asked while one is in flight, it sends once that settles.
 *   now(job)    send at once, superseding anything in flight; resolves with its seq
 *               once it has settled (answered, failed or superseded).
 *   cancel()    supersede everything without sending.
 *
 * `clock` ({now, setTimeout, clearTimeout}) is there so a test can drive time by hand.
 */
const realClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
};

export function createScheduler({
  predict, onAnswer, onError, onIssue = () => {}, throttleMs = 100, clock = realClock,
}) {
  let seq = 0;
  let inflight = null;     // AbortController of the request in flight
  let lastSent = -Infinity;
  let timer = 0;
  let next = null;         // what soon() was last asked to send
  let pending = false;     // soon() was asked while a request was in flight

  function issue(n) {
    seq = n;
    onIssue(n);
  }

  function stopTimer() {
    clock.clearTimeout(timer);
    timer = 0;
  }

  function soon(make) {
    next = make;
    if (inflight) { pending = true; return; }
    if (timer) return;     // already scheduled (a late timer must not fire a second request)
    const wait = lastSent + throttleMs - clock.now();
    if (wait <= 0) send(make());
    else timer = clock.setTimeout(() => { timer = 0; send(next()); }, Math.ceil(wait));
  }

  async function send(job) {
    stopTimer();
    if (inflight) inflight.abort();
    const controller = new AbortController();
    const mine = seq + 1;
    issue(mine);
    inflight = controller;
    pending = false;
    lastSent = clock.now();
    try {
      const result = await predict(job, controller.signal);
      if (mine === seq) onAnswer(result, job, mine);
    } catch (err) {
      if (err.name !== "AbortError" && mine === seq) onError(err, job, mine);
    } finally {
      if (inflight === controller) inflight = null;
      if (pending) soon(next);
    }
    return mine;
  }

  function cancel() {
    stopTimer();
    pending = false;
    if (inflight) inflight.abort();
    inflight = null;
    issue(seq + 1);
  }

  return {
    soon,
    now: send,
    cancel,
    /** The newest request's number: an answer for any other is stale. */
    get seq() { return seq; },
  };
}
