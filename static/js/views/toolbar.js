/**
 * Undo, Redo and Clear: the buttons, the pad's "Draw a digit" hint, and the keyboard
 * shortcuts the buttons announce in aria-keyshortcuts.
 */
export function createToolbar({ undo, redo, clear, hint }, actions) {
  undo.addEventListener("click", actions.undo);
  redo.addEventListener("click", actions.redo);
  clear.addEventListener("click", actions.clear);

  document.addEventListener("keydown", (event) => {
    // Typing in a form control is not a shortcut (the example digit <select> takes keys).
    if (event.target instanceof HTMLElement && event.target.closest("input, select, textarea")) return;
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    let handled = true;
    if (mod && key === "z" && !event.shiftKey) actions.undo();
    else if ((mod && key === "z" && event.shiftKey) || (event.ctrlKey && key === "y")) actions.redo();
    else if (key === "escape" && !mod) actions.clear();
    else handled = false;
    if (handled) event.preventDefault();
  });

  return {
    /** `empty`: nothing drawn and no example on show, so the hint invites drawing. */
    sync({ canUndo, canRedo, canClear, empty }) {
      undo.disabled = !canUndo;
      redo.disabled = !canRedo;
      clear.disabled = !canClear;
      hint.hidden = !empty;
    },
  };
}
