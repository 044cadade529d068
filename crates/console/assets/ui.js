// DOM helpers: elements are built with properties and text nodes, never from HTML strings, so
// names coming from the API cannot inject markup (and the page runs under a strict CSP).

/** h('button', {onclick, class: 'x'}, 'text', child…) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function show(...nodes) {
  const main = document.getElementById('main');
  main.replaceChildren(...nodes);
  const heading = main.querySelector('h1');
  if (heading) document.title = `${heading.textContent} – Portico console`;
}

let statusTimer;
export function say(message, bad = false) {
  const el = document.getElementById('status');
  el.className = bad ? 'status bad' : 'status';
  el.textContent = message;
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => { el.textContent = ''; }, bad ? 8000 : 4000);
}

/** Runs `action`, reporting its error in the status line instead of failing silently. */
export async function attempt(action) {
  try { return await action(); } catch (e) { say(e.message, true); return undefined; }
}

/** A table: columns are [heading, item => cell]. */
export function table(columns, items, { empty = 'Nothing here yet.', caption } = {}) {
  if (!items.length) return h('p', { class: 'muted' }, empty);
  return h('table', {},
    caption && h('caption', { class: 'muted' }, caption),
    h('thead', {}, h('tr', {}, columns.map(([title]) => h('th', { scope: 'col' }, title)))),
    h('tbody', {}, items.map(item => h('tr', {}, columns.map(([, cell]) => h('td', {}, cell(item)))))));
}

/** Definition list of [term, value] pairs; empty values show as "—". */
export function kv(pairs) {
  return h('dl', { class: 'kv' }, pairs.flatMap(([k, v]) => [h('dt', {}, k),
    h('dd', {}, v === undefined || v === null || v === '' ? '—' : (v instanceof Node ? v : String(v)))]));
}

export function field(label, input) { return h('label', {}, label, input); }

export function select(name, options, value) {
  return h('select', { name }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
}

export function pill(text) { return h('span', { class: `pill ${text}` }, text); }

/** A modal confirmation with focus inside; resolves true when confirmed. */
export function confirmDialog(title, message, confirmLabel = 'Confirm') {
  return new Promise(resolve => {
    const ok = h('button', { type: 'button', onclick: () => close(true) }, confirmLabel);
    const dialog = h('dialog', { 'aria-labelledby': 'dialog-title' },
      h('h2', { id: 'dialog-title' }, title), h('p', {}, message),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => close(false) }, 'Cancel'), ok));
    const close = answer => { dialog.close(); dialog.remove(); resolve(answer); };
    dialog.addEventListener('cancel', event => { event.preventDefault(); close(false); });
    document.body.append(dialog);
    dialog.showModal();
    ok.focus();
  });
}

/** The values of a form's named controls. */
export function values(form) { return Object.fromEntries(new FormData(form).entries()); }
