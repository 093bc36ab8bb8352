// What every page shares: the header's session (who is signed in, Sign
// out), the --insecure warning, the "updated" line, the error banner, the
// poll loop, and the window selector.

import { get, session, signOut } from './api.js';
import { byId, h, param } from './dom.js';
import { ago, count, dateTime, errorHeadline, latency } from './format.js';

// frame fills what every page shows around its own content: the session
// in the header (who is signed in; Sign out for a cookie session, the only
// kind a page can end) and the node's --insecure warning. Each page calls
// it once; a failure shows in the error banner.
export async function frame() {
  byId('sign-out').addEventListener('click', () => signOut());
  try {
    const [s, summary] = await Promise.all([session(), get('/api/v1/cluster/summary')]);
    showSession(s);
    showWarning(summary);
    document.body.dataset.frame = 'ready'; // for tests: the header and banner are filled
  } catch (err) {
    report(err);
  }
}

const signedInVia = { cookie: 'signed in', certificate: 'client certificate' };

function showSession(s) {
  const how = signedInVia[s.via];
  byId('session').hidden = !how;
  byId('session-user').textContent = how ? `${s.user || 'admin'} (${how})` : '';
  byId('sign-out').hidden = s.via !== 'cookie';
}

// showWarning shows the cluster summary's squallWarning (a node run with
// --insecure) in the page's warning banner, or hides the banner.
export function showWarning(summary) {
  const banner = byId('insecure-warning');
  const text = summary?.squallWarning ?? '';
  banner.hidden = text === '';
  banner.textContent = text;
}

// report shows err in the page's banner, or clears the banner when err is null.
function report(err) {
  const banner = byId('banner');
  banner.hidden = err === null;
  banner.textContent = err === null ? '' : String(err.message || err);
}

// poll calls fn now and then intervalMs after each call settles, so a slow
// node never has two polls in flight; errors go to the banner and the
// polling goes on. It returns a function that polls at once (after an
// action), merged with a poll already running.
export function poll(fn, intervalMs = 2000) {
  let timer = null;
  let running = false;
  let again = false;
  const run = async () => {
    clearTimeout(timer);
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await fn();
      report(null);
      const updated = byId('updated');
      updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
      updated.dataset.polls = String(Number(updated.dataset.polls ?? 0) + 1); // for tests: a fresh reading
    } catch (err) {
      report(err);
    } finally {
      running = false;
      if (again) {
        again = false;
        run();
      } else {
        timer = setTimeout(run, intervalMs);
      }
    }
  };
  run();
  return run;
}

// Storm UI's windows, in seconds (":all-time" is Storm's own spelling).
const windows = [
  ['600', '10m 0s'],
  ['10800', '3h 0m 0s'],
  ['86400', '1d 0h 0m 0s'],
  [':all-time', 'All time'],
];

// windowSelect fills the <select> with Storm's windows, selects the page's
// ?window= (default 600) and calls onChange with the new window.
export function windowSelect(select, onChange) {
  const current = param('window') || '600';
  for (const [value, label] of windows) {
    select.append(new Option(label, value, false, value === current));
  }
  select.addEventListener('change', () => {
    const url = new URL(window.location.href);
    url.searchParams.set('window', select.value);
    window.history.replaceState(null, '', url);
    onChange(select.value);
  });
  return current;
}

// getWindowed fetches path for window win and, since rates come from the
// growth of all-time counts, for all time too: it resolves with both
// documents (the same one when win is all time).
export async function getWindowed(path, win) {
  const q = encodeURIComponent;
  const [doc, allTime] = await Promise.all([
    get(`${path}?window=${q(win)}`),
    win === ':all-time' ? null : get(`${path}?window=${q(':all-time')}`),
  ]);
  return [doc, allTime ?? doc];
}

// numCell is a right-aligned count; data-value keeps the raw number for
// tests and scripts.
export function numCell(value, testid) {
  return h('td', { class: 'num', text: count(value), dataset: testid ? { testid, value } : { value } });
}

// textCell is a right-aligned preformatted value (a latency, a rate).
export function textCell(text, testid) {
  return h('td', { class: 'num', text, dataset: testid ? { testid } : {} });
}

// latencyCell is a right-aligned latency: "–" when never measured (see
// format.latency); data-value keeps the API's string.
export function latencyCell(value, samples, testid) {
  return h('td', { class: 'num', text: latency(value, samples), dataset: testid ? { testid, value: value ?? '' } : { value: value ?? '' } });
}

// when shows an epoch-ms time as a local date and time in a <time>
// (datetime: the UTC instant; title: the raw epoch ms), or "–".
export function when(ms, testid) {
  const text = dateTime(ms);
  if (text === '–') return text;
  return h('time', { datetime: new Date(Number(ms)).toISOString(), title: String(ms), text, dataset: testid ? { testid } : {} });
}

// timeCell is a time (see when) and how long ago it was.
export function timeCell(ms, lapsedSecs, testid) {
  const w = when(ms, testid);
  return h('td', { class: 'time' }, w, w === '–' ? null : ago(lapsedSecs));
}

// uptimeCell is an uptime (Storm's "3h 4m 5s") whose title says when it
// started (startedMs, epoch ms), when that is known.
export function uptimeCell(text, startedMs, what = 'started') {
  const date = dateTime(startedMs);
  return h('td', { text, title: date === '–' ? null : `${what} ${date}` });
}

// errorText shows an error message readably in little room: short and on
// one line, as it is; else its headline (format.errorHeadline) in a
// <details> that opens on the whole text, kept as written (a Python
// traceback's lines and indentation) and wrapped within the cell.
// One opened stays open across polls (which rebuild the tables): the
// errors opened, by testid and text.
export function errorText(message, testid) {
  const head = errorHeadline(message);
  const ds = testid ? { testid } : {};
  if (!head.more) return h('span', { class: 'error-head', title: message, text: message, dataset: ds });
  const key = `${testid ?? ''}\u0000${message}`;
  return h('details', { class: 'error-details', dataset: ds, open: openErrors.has(key), on: { toggle: (ev) => {
    if (ev.target.open) openErrors.add(key);
    else openErrors.delete(key);
  } } },
  h('summary', { title: head.text }, h('span', { class: 'error-head', text: head.text })),
  h('pre', { class: 'error-full', text: message }));
}

const openErrors = new Set();

// errorCell shows a last error (see errorText) and, under it, where (a
// node's name) and when (a local date, how long ago) it happened.
// opts: {time (epoch ms), lapsedSecs, node, testid}.
export function errorCell(message, opts = {}) {
  if (!message) return h('td', { class: 'no-error', text: '' });
  const { time, lapsedSecs, node, testid } = opts;
  const at = when(time);
  const meta = [
    node ? h('span', { class: 'error-node', text: node, dataset: testid ? { testid: `${testid}-node` } : {} }) : null,
    at === '–' ? null : h('span', {}, at, ago(lapsedSecs)),
  ].filter(Boolean);
  return h('td', { class: 'error' },
    h('div', { class: 'error-box' },
      errorText(message, testid),
      meta.length ? h('div', { class: 'error-meta' }, meta.flatMap((m, i) => (i ? [' · ', m] : [m]))) : null));
}

// cards fills a <dl> with [label, value, testid?] cards; a value is
// text or an element (a date from when).
export function cards(dl, items) {
  dl.replaceChildren(...items.map(([label, value, testid]) =>
    h('div', { class: 'card' }, h('dt', { text: label }), h('dd', { dataset: testid ? { testid } : {} }, value))));
}
