// Evaluated in the real page by test_scheduler.py: imports the page's own scheduler
// module and puts it on `window.rig` with a fake predict whose answers the test hands
// out one by one, and (unless `manual` is false) a clock the test moves by hand, so the
// order of events never depends on how fast the machine is.
async ({ throttleMs, manual, deaf = false, instant = false }) => {
  const { createScheduler } = await import("/static/js/scheduler.js");
  // A macrotask: every promise reaction queued before it has run.
  const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

  const clock = {
    t: 0, timers: [], ids: 0,
    now() { return this.t; },
    setTimeout(fn, ms) { this.timers.push({ id: ++this.ids, at: this.t + ms, fn }); return this.ids; },
    clearTimeout(id) { this.timers = this.timers.filter((timer) => timer.id !== id); },
  };

  const rig = {
    log: [],            // "send d1", "abort d1", "answer D1 for d1 #1", "error boom for b #2"
    calls: [],          // every predict call: {job, signal, resolve, reject}
    sentAt: [],         // performance.now() of each predict call
    settled: [],        // what now() resolved with, in order
    open: 0,            // predict calls neither settled nor aborted
    maxOpen: 0,
    drawing: null,      // what soon()'s make() returns when the scheduler calls it
    clock,
  };

  function predict(job, signal) {
    rig.log.push(`send ${job}`);
    rig.sentAt.push(performance.now());
    rig.open += 1;
    rig.maxOpen = Math.max(rig.maxOpen, rig.open);
    if (instant) { rig.open -= 1; return Promise.resolve(job.toUpperCase()); }
    return new Promise((resolve, reject) => {
      let done = false;
      const close = () => { if (!done) { done = true; rig.open -= 1; } };
      rig.calls.push({
        job, signal,
        resolve: (value) => { close(); resolve(value); },
        reject: (err) => { close(); reject(err); },
      });
      signal.addEventListener("abort", () => {
        rig.log.push(`abort ${job}`);
        close();
        // A deaf transport answers anyway: only the scheduler's numbering can drop it.
        if (!deaf) reject(new DOMException("superseded", "AbortError"));
      });
    });
  }

  rig.scheduler = createScheduler({
    predict,
    onAnswer: (result, job, seq) => rig.log.push(`answer ${result} for ${job} #${seq}`),
    onError: (err, job, seq) => rig.log.push(`error ${err.message} for ${job} #${seq}`),
    throttleMs,
    ...(manual ? { clock } : {}),
  });

  const call = (job) => {
    const found = rig.calls.filter((c) => c.job === job).pop();
    if (!found) throw new Error(`no request for ${job}`);
    return found;
  };

  /** The pen moved: the drawing is now `drawing`. */
  rig.soon = (drawing) => { rig.drawing = drawing; rig.scheduler.soon(() => rig.drawing); };
  rig.now = (job) => { rig.scheduler.now(job).then((seq) => rig.settled.push(`${job} #${seq}`)); };
  rig.answer = async (job, result) => { call(job).resolve(result); await flush(); };
  rig.fail = async (job, message) => { call(job).reject(new Error(message)); await flush(); };
  rig.cancel = () => rig.scheduler.cancel();
  /** Move the hand-driven clock forward, firing due timers in order, each at its time. */
  rig.tick = async (ms) => {
    const end = clock.t + ms;
    for (;;) {
      const due = clock.timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      clock.timers = clock.timers.filter((timer) => timer !== due);
      clock.t = due.at;
      due.fn();
      await flush();
    }
    clock.t = end;
    await flush();
  };
  window.rig = rig;
}
