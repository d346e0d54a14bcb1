/**
 * The MNIST example on show: its 28×28 painted over the drawing pad, which stays
 * underneath untouched (Undo brings the drawing back).
 */
import { paintInk } from "./pixels.js";

export function createExampleView(canvas) {
  return {
    show(pixels) {
      paintInk(canvas, pixels);
      canvas.hidden = false;
    },
    hide() {
      canvas.hidden = true;
    },
  };
}
