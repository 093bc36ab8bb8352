// The component page: one spout's or bolt's stats per window, its tasks
// (node, uptime, counts, latencies, last error), its errors and gauges,
// polled every 2 s. Per-task rates come from the all-time counts' growth
// between polls.

import { byId, fillRows, h, param } from './dom.js';
import { ago, count, duration, millis, rate, Rates } from './format.js';
import { cards, errorCell, frame, getWindowed, numCell, poll, textCell, windowSelect } from './page.js';

const topologyId = param('topology');
const componentId = param('component');
const rates = new Rates();
let win = windowSelect(byId('window'), (w) => {
  win = w;
  refresh();
});

const q = encodeURIComponent;

// where names an executor's node and its address, as Storm shows host and port.
function where(e) {
  const addr = e.port ? `${e.host}:${e.port}` : e.host;
  return e.node ? `${e.node} (${addr})` : addr;
}

// Columns differ for spouts and bolts, as in Storm's UI. Each column is
// [heading, cell(row)], with the executor's rate passed along.
const statsColumns = {
  spout: [
    ['Window', (s) => h('td', { text: s.windowPretty || s.window })],
    ['Emitted', (s) => numCell(s.emitted)],
    ['Transferred', (s) => numCell(s.transferred)],
    ['Complete latency', (s) => textCell(millis(s.completeLatency))],
    ['Acked', (s) => numCell(s.acked)],
    ['Failed', (s) => numCell(s.failed)],
  ],
  bolt: [
    ['Window', (s) => h('td', { text: s.windowPretty || s.window })],
    ['Emitted', (s) => numCell(s.emitted)],
    ['Transferred', (s) => numCell(s.transferred)],
    ['Executed', (s) => numCell(s.executed)],
    ['Execute latency', (s) => textCell(millis(s.executeLatency))],
    ['Process latency', (s) => textCell(millis(s.processLatency))],
    ['Capacity', (s) => textCell(s.capacity ?? '–')],
    ['Acked', (s) => numCell(s.acked)],
    ['Failed', (s) => numCell(s.failed)],
  ],
};

const executorColumns = {
  spout: [
    ['Task', (e) => h('td', { text: e.id ?? e.task })],
    ['Node', (e) => h('td', { text: where(e) })],
    ['Uptime', (e) => h('td', { text: e.uptime || duration(e.uptimeSeconds) })],
    ['Emitted', (e) => numCell(e.emitted, `executor-emitted-${e.task}`)],
    ['Emitted/s', (e, r) => textCell(rate(r))],
    ['Transferred', (e) => numCell(e.transferred)],
    ['Complete latency', (e) => textCell(millis(e.completeLatency))],
    ['Acked', (e) => numCell(e.acked)],
    ['Failed', (e) => numCell(e.failed)],
    ['Restarts', (e) => numCell(e.restarts)],
    ['Last error', (e) => errorCell(e.lastError)],
  ],
  bolt: [
    ['Task', (e) => h('td', { text: e.id ?? e.task })],
    ['Node', (e) => h('td', { text: where(e) })],
    ['Uptime', (e) => h('td', { text: e.uptime || duration(e.uptimeSeconds) })],
    ['Emitted', (e) => numCell(e.emitted)],
    ['Transferred', (e) => numCell(e.transferred)],
    ['Capacity', (e) => textCell(e.capacity ?? '–')],
    ['Executed', (e) => numCell(e.executed, `executor-executed-${e.task}`)],
    ['Executed/s', (e, r) => textCell(rate(r))],
    ['Execute latency', (e) => textCell(millis(e.executeLatency))],
    ['Process latency', (e) => textCell(millis(e.processLatency))],
    ['Acked', (e) => numCell(e.acked)],
    ['Failed', (e) => numCell(e.failed)],
    ['Restarts', (e) => numCell(e.restarts)],
    ['Last error', (e) => errorCell(e.lastError)],
  ],
};

function heading(thead, columns) {
  const names = columns.map(([name]) => name);
  if (thead.dataset.columns === names.join()) return;
  thead.dataset.columns = names.join();
  const numeric = (name) => !['Window', 'Task', 'Node', 'Uptime', 'Last error'].includes(name);
  thead.replaceChildren(h('tr', {}, names.map((n) => h('th', { class: numeric(n) ? 'num' : null, text: n }))));
}

function renderSummary(c) {
  document.title = `squall · ${c.id}`;
  byId('crumb').textContent = c.id;
  byId('name').textContent = c.id;
  byId('kind').textContent = c.componentType;
  const link = byId('topology-link');
  link.textContent = c.name;
  link.href = `topology.html?id=${q(c.topologyId)}&window=${q(win)}`;
  cards(byId('summary'), [
    ['Topology', c.name],
    ['Type', c.componentType],
    ['Executors', count(c.executors)],
    ['Tasks', count(c.tasks)],
  ]);
}

function renderErrors(errors = []) {
  fillRows(byId('errors'), errors.map((e) =>
    h('tr', {},
      h('td', { text: `${e.time ?? ''}${ago(e.errorLapsedSecs)}` }),
      h('td', { text: e.errorPort ? `${e.errorHost}:${e.errorPort}` : e.errorHost }),
      h('td', { class: 'error', text: e.error }))), 'no errors');
}

function renderGauges(gauges = []) {
  fillRows(byId('gauges'), gauges.map((g) =>
    h('tr', {},
      h('td', { text: g.name }),
      h('td', { text: Object.entries(g.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(' ') }),
      textCell(typeof g.value === 'number' ? count(g.value) : String(g.value)))), 'no gauges');
}

async function update() {
  if (!topologyId || !componentId) throw new Error('open this page as component.html?topology=ID&component=NAME');
  const path = `/api/v1/topology/${q(topologyId)}/component/${q(componentId)}`;
  const [c, all] = await getWindowed(path, win);
  const kind = c.componentType === 'spout' ? 'spout' : 'bolt';
  const counter = kind === 'spout' ? 'emitted' : 'executed';
  const now = Date.now();
  const taskRates = new Map((all.executorStats ?? []).map((e) => [e.task, rates.update(`task ${e.task}`, e[counter], now)]));

  renderSummary(c);
  heading(byId('stats-head'), statsColumns[kind]);
  const stats = (kind === 'spout' ? c.spoutSummary : c.boltStats) ?? [];
  fillRows(byId('stats'), stats.map((s) => h('tr', {}, statsColumns[kind].map(([, cell]) => cell(s)))));
  heading(byId('executors-head'), executorColumns[kind]);
  fillRows(byId('executors'), (c.executorStats ?? []).map((e) =>
    h('tr', { dataset: { testid: `executor-row-${e.task}` } }, executorColumns[kind].map(([, cell]) => cell(e, taskRates.get(e.task))))), 'no running tasks');
  renderErrors(c.componentErrors);
  renderGauges(c.gauges);
}

frame();
const refresh = poll(update);
