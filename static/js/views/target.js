/**
 * "What did you mean?": ten digit radio buttons (native, so Tab enters the group once and
 * the arrow keys move and choose). Choosing one hands the digit to the caller; the
 * network's own answer is marked so the person sees what they are arguing with.
 */
export function createTarget(fieldset, { onChoose }) {
  const radios = [...fieldset.querySelectorAll("input[type=radio]")];
  radios.forEach((radio) => {
    radio.addEventListener("change", () => { if (radio.checked) onChoose(Number(radio.value)); });
  });

  return {
    /** The chosen digit, or null to choose none. */
    set(digit) {
      radios.forEach((r) => { r.checked = Number(r.value) === digit; });
    },
    setEnabled(enabled) {
      fieldset.disabled = !enabled;
    },
    /** The network's answer (or null): marked beside its digit. */
    markAnswer(digit) {
      radios.forEach((r) => {
        const label = r.closest("label");
        const mine = Number(r.value) === digit;
        label.classList.toggle("is-answer", mine);
        const hint = label.querySelector("[data-hint]");
        if (hint) hint.textContent = mine ? " (the network's answer)" : "";
      });
    },
  };
}
