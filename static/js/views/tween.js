/**
 * Animate a vector of numbers from where it is to where it should be.
 *
 * `createTween(draw)` returns `to(target)`: every animation frame for `duration` ms it
 * calls `draw(values, done)` with an ease-out interpolation; a new target mid-way starts
 * from the values currently shown, so a growing drawing never makes the picture jump.
 * Under prefers-reduced-motion it draws the target at once.
 */

const reduced = matchMedia("(prefers-reduced-motion: reduce)");
/** The first frame already shows a frame's worth of motion: a new answer is visible at once. */
const FRAME_MS = 1000 / 60;

export function createTween(draw, duration = 150) {
  let shown = null;     // what is on screen now
  let from = null;
  let target = null;
  let start = 0;
  let frame = 0;

  function step(now) {
    // rAF's timestamp is the frame's start, which can precede `start`: clamp at 0.
    const t = reduced.matches ? 1 : Math.min(Math.max((now - start) / duration, 0), 1);
    const e = 1 - (1 - t) ** 3;
    shown = target.map((v, i) => from[i] + (v - from[i]) * e);
    draw(shown, t === 1);
    frame = t < 1 ? requestAnimationFrame(step) : 0;
  }

  return function to(values) {
    target = values.slice();
    from = shown && shown.length === target.length ? shown : target.map(() => 0);
    start = performance.now() - FRAME_MS;
    if (!frame) frame = requestAnimationFrame(step);
  };
}
