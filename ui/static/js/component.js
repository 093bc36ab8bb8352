// The component page: one spout's or bolt's stats per window, its tasks
// (node, uptime, counts, latencies, last error), its errors and gauges,
// polled every 2 s. Per-task rates come from the all-time counts' growth
// between polls.

import { byId, fillRows, h, param } from './dom.js';
import { count, duration, place, rate, Rates, startedAt } from './format.js';
import { cards, errorCell, errorText, frame, getWindowed, latencyCell, numCell, poll, textCell, timeCell, uptimeCell, windowSelect } from './page.js';

const topologyId = param('topology');
const componentId = param('component');
const rates = new Rates();
let win = windowSelect(byId('window'), (w) => {
  win = w;
  refresh();
});

const q = encodeURIComponent;

// nodeCell names the node a task runs on (its address, Storm's host and
// port, in the title).
function nodeCell(node, host, port, testid) {
  const p = place(node, host, port);
  return h('td', { text: p.text, title: p.title || null, dataset: testid ? { testid } : {} });
}

// polledAt is when the shown document was read: uptimes count from it.
let polledAt = Date.now();
const uptime = (e) => uptimeCell(e.uptime || duration(e.uptimeSeconds), startedAt(e.uptimeSeconds, polledAt));
const taskError = (e) => errorCell(e.lastError, { time: e.errorTime, testid: `executor-error-${e.task}` });

// Columns differ for spouts and bolts, as in Storm's UI. Each column is
// [heading, cell(row)], with the executor's rate passed along.
const statsColumns = {
  spout: [
    ['Window', (s) => h('td', { text: s.windowPretty || s.window })],
    ['Emitted', (s) => numCell(s.emitted)],
    ['Transferred', (s) => numCell(s.transferred)],
    ['Complete latency', (s) => latencyCell(s.completeLatency, s.acked)],
    ['Acked', (s) => numCell(s.acked)],
    ['Failed', (s) => numCell(s.failed)],
  ],
  bolt: [
    ['Window', (s) => h('td', { text: s.windowPretty || s.window })],
    ['Emitted', (s) => numCell(s.emitted)],
    ['Transferred', (s) => numCell(s.transferred)],
    ['Executed', (s) => numCell(s.executed)],
    ['Execute latency', (s) => latencyCell(s.executeLatency, s.executed)],
    ['Process latency', (s) => latencyCell(s.processLatency, s.acked)],
    ['Capacity', (s) => textCell(s.capacity ?? '–')],
    ['Acked', (s) => numCell(s.acked)],
    ['Failed', (s) => numCell(s.failed)],
  ],
};

const executorColumns = {
  spout: [
    ['Task', (e) => h('td', { text: e.id ?? e.task })],
    ['Node', (e) => nodeCell(e.node, e.host, e.port, `executor-node-${e.task}`)],
    ['Uptime', uptime],
    ['Emitted', (e) => numCell(e.emitted, `executor-emitted-${e.task}`)],
    ['Emitted/s', (e, r) => textCell(rate(r))],
    ['Transferred', (e) => numCell(e.transferred)],
    ['Complete latency', (e) => latencyCell(e.completeLatency, e.acked, `executor-complete-latency-${e.task}`)],
    ['Acked', (e) => numCell(e.acked)],
    ['Failed', (e) => numCell(e.failed)],
    ['Restarts', (e) => numCell(e.restarts)],
    ['Last error', taskError],
  ],
  bolt: [
    ['Task', (e) => h('td', { text: e.id ?? e.task })],
    ['Node', (e) => nodeCell(e.node, e.host, e.port, `executor-node-${e.task}`)],
    ['Uptime', uptime],
    ['Emitted', (e) => numCell(e.emitted)],
    ['Transferred', (e) => numCell(e.transferred)],
    ['Capacity', (e) => textCell(e.capacity ?? '–')],
    ['Executed', (e) => numCell(e.executed, `executor-executed-${e.task}`)],
    ['Executed/s', (e, r) => textCell(rate(r))],
    ['Execute latency', (e) => latencyCell(e.executeLatency, e.executed, `executor-execute-latency-${e.task}`)],
    ['Process latency', (e) => latencyCell(e.processLatency, e.acked, `executor-process-latency-${e.task}`)],
    ['Acked', (e) => numCell(e.acked)],
    ['Failed', (e) => numCell(e.failed)],
    ['Restarts', (e) => numCell(e.restarts)],
    ['Last error', taskError],
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
    h('tr', { dataset: { testid: `error-row-${e.task}` } },
      timeCell(e.time, e.errorLapsedSecs, `error-time-${e.task}`),
      h('td', { text: e.task ?? '–' }),
      nodeCell(e.node, e.errorHost, e.errorPort, `error-node-${e.task}`),
      h('td', { class: 'error' }, h('div', { class: 'error-box' }, errorText(e.error, `error-text-${e.task}`))))), 'no errors');
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
  polledAt = now;
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
