// DOM helpers shared by the pages: build elements declaratively and fill
// tables, so each page reads as "what it shows", not "how to poke the DOM".

// h builds an element. attrs may hold plain attributes, `class`, `text`,
// `dataset` ({testid: "x"} becomes data-testid="x") and `on` ({click: fn});
// children are nodes, strings or null (skipped).
export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'text') {
      el.textContent = String(value);
    } else if (key === 'dataset') {
      for (const [k, v] of Object.entries(value)) el.setAttribute(`data-${k}`, String(v));
    } else if (key === 'on') {
      for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// byId returns the element with id, failing loudly when a page lacks it.
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page has no element #${id}`);
  return el;
}

// fillRows replaces the rows of tbody; an empty list shows `empty` across
// all columns.
export function fillRows(tbody, rows, empty = 'none') {
  if (rows.length === 0) {
    const cols = tbody.closest('table')?.querySelectorAll('thead th').length || 1;
    rows = [h('tr', {}, h('td', { colspan: cols, class: 'empty', text: empty }))];
  }
  tbody.replaceChildren(...rows);
}

// param reads a query parameter of the page's URL.
export function param(name) {
  return new URLSearchParams(window.location.search).get(name) ?? '';
}
