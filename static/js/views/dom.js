/**
 * Elements built from data, never from HTML strings: text stays text, and nothing here
 * needs what the Content-Security-Policy forbids.
 */
const SVG = "http://www.w3.org/2000/svg";

/**
 * An HTML element. `props` become properties (`className`, `textContent`, `type`, …),
 * except `data` (dataset entries) and `attrs` (attributes such as `aria-hidden`);
 * `children` are appended in order.
 */
export function html(tag, { data = {}, attrs = {}, ...props } = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, data);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

/** An SVG element with these attributes, appended to `parent` when there is one. */
export function svgElement(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}
