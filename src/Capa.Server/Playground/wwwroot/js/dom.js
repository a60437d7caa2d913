// Small DOM helpers. Text always goes in as text nodes: nothing from the API or the user is parsed as HTML.

/** Creates an element: h('button', { class: 'x', onclick: f, text: 'Go' }, child, ...). */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') element.textContent = value;
    else if (name === 'class') element.className = value;
    else if (name === 'value') element.value = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name in element && typeof value !== 'string') element[name] = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

let nextId = 0;

/** A unique id for label/for pairs. */
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** A labelled control: returns { wrap, control }. */
export function field(labelText, control) {
  if (!control.id) control.id = uid('f');
  const label = h('label', { for: control.id, text: labelText });
  return { wrap: h('div', { class: 'field' }, label, control), control };
}

/** A <select> with options given as strings or [value, label] pairs. */
export function select(options, value) {
  const element = h('select');
  setOptions(element, options, value);
  return element;
}

/** Replaces the options of a <select>, keeping the current value where it still exists. */
export function setOptions(element, options, value) {
  const keep = value ?? element.value;
  element.replaceChildren(...options.map(o => {
    const [v, l] = Array.isArray(o) ? o : [o, o];
    return h('option', { value: v, text: l });
  }));
  if ([...element.options].some(o => o.value === keep)) element.value = keep;
}

/** Shows an error (an API error's message, or any exception's) in an element with role=alert. */
export function showError(element, error) {
  element.hidden = !error;
  element.textContent = error ? (error.message || String(error)) : '';
}

/** Pretty JSON for display. */
export function pretty(value) {
  return JSON.stringify(value, null, 2);
}

/** A number from an input, or undefined when it is empty. */
export function numberOrUndefined(input) {
  const text = input.value.trim();
  if (text === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}
