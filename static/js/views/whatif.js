/**
 * Gradient descent on a what-if copy: "Take a step", "Take 10 steps", "Reset", the line
 * that says what the copy now answers, and the player that walks the picture through the
 * server's `descent.steps` one step at a time.
 *
 * The page keeps no weights: every click asks the server for the total number of steps
 * so far (the server always starts from the served weights and throws its copy away),
 * and the player shows the steps not yet on screen.
 */
const reduced = matchMedia("(prefers-reduced-motion: reduce)");
/** Time per step on screen; the bars' own tween (150 ms) fits inside it. */
const STEP_MS = 220;

export function createWhatIf({ step, ten, reset, text }, { onSteps, onReset }) {
  let timer = 0;
  step.addEventListener("click", () => onSteps(1));
  ten.addEventListener("click", () => onSteps(10));
  reset.addEventListener("click", () => onReset());

  function stop() {
    clearTimeout(timer);
    timer = 0;
  }

  return {
    /**
     * @param {{target: number|null, steps: number, max: number, enabled: boolean}} s
     *   `steps` taken so far (0: the served weights), `max` the most the server takes.
     */
    sync({ target, steps, max, enabled }) {
      const can = enabled && target !== null;
      step.disabled = !can || steps >= max;
      ten.disabled = !can || steps >= max;
      ten.textContent = steps > max - 10 && steps < max ? `Take ${max - steps} steps` : "Take 10 steps";
      // Stays enabled once a digit is chosen, so the focus is not thrown off it when pressed.
      reset.disabled = !can;
    },
    say(sentence) {
      text.textContent = sentence;
    },
    /**
     * Show `steps` (descent.steps) from index `from` (0: the first not yet shown) to the
     * end, calling `show(step)` for each, `done()` after the last. A newer call or `stop`
     * ends the walk where it is.
     */
    play(steps, from, show, done) {
      stop();
      const next = (k) => {
        if (k >= steps.length) { timer = 0; done(); return; }
        show(steps[k]);
        if (reduced.matches) next(k + 1);
        else timer = setTimeout(() => next(k + 1), STEP_MS);
      };
      if (reduced.matches && steps.length > from) {
        show(steps[steps.length - 1]);
        done();
        return;
      }
      next(from);
    },
    stop,
  };
}
