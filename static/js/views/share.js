/**
 * "Copy link": the button, a read-only field holding the link (the clipboard may be
 * unavailable: the person can copy it from there), and a quiet line saying what happened —
 * also where a link that could not be read is reported (never an alert).
 */
export function createShare({ button, field, message }, { onCopy }) {
  const box = field.closest("[data-share=field]");
  button.addEventListener("click", () => onCopy());
  field.addEventListener("focus", () => field.select());

  return {
    setEnabled(enabled) {
      button.disabled = !enabled;
    },
    /** Show `link` in the field and try the clipboard; resolves when it is settled. */
    async offer(link) {
      field.value = link;
      box.hidden = false;
      let copied = false;
      try {
        if (navigator.clipboard && window.isSecureContext) {
          await navigator.clipboard.writeText(link);
          copied = true;
        }
      } catch {
        copied = false;     // not allowed here (permissions, an unfocused page): the field has it
      }
      message.textContent = copied
        ? "Link copied: it opens this drawing and the network's answer to it."
        : "Copy the link from the field below: it opens this drawing and the network's answer to it.";
      if (!copied) field.select();
      return copied;
    },
    say(text) {
      message.textContent = text;
    },
    /** The drawing changed: the link on show (and what was said) is about the old one. */
    forget() {
      field.value = "";
      box.hidden = true;
      message.textContent = "";
    },
  };
}
