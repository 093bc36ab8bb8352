// The topology page: summary, actions, the live component graph, and the
// spout and bolt tables, polled every 2 s. Counts in the tables are the
// selected window's; rates (tuples/s) come from the all-time counts'
// growth between two polls, since a sliding window's count also drops
// what leaves the window.

import { actions, get } from './api.js';
import { byId, fillRows, h, param } from './dom.js';
import { commandLine, count, duration, hostPort, lastCheckpoint, millis, nodeNames, rate, Rates, size, startedAt, submittedAt } from './format.js';
import { render as renderGraph } from './graph.js';
import { cards, errorCell, frame, getWindowed, latencyCell, numCell, poll, textCell, when, windowSelect } from './page.js';

const id = param('id');
const rates = new Rates();
let win = windowSelect(byId('window'), (w) => {
  win = w;
  refresh();
});
let current = null; // the last topology document polled
let busy = false; // an action is running
let rebalanceChoices = new Map(); // component id -> {executors, maxTasks}

const q = encodeURIComponent;
const componentHref = (component) => `component.html?topology=${q(id)}&component=${q(component)}&window=${q(win)}`;

function renderSummary(t) {
  document.title = `squall · ${t.name}`;
  byId('crumb').textContent = t.name;
  byId('name').textContent = t.name;
  const status = byId('status');
  status.textContent = t.status;
  status.className = `status ${t.status}`;
  // Components that keep crashing: the status stays Storm's, a badge beside it.
  const failing = t.failingComponents ?? [];
  status.parentElement.querySelector('[data-testid="topology-failing"]')?.remove();
  if (failing.length > 0) {
    status.after(h('span', { class: 'status failing', text: `failing: ${failing.join(', ')}`, dataset: { testid: 'topology-failing' } }));
  }
  cards(byId('summary'), [
    ['Id', t.id],
    ['Submitted', when(submittedAt(t.id, t.name) ?? startedAt(t.uptimeSeconds, Date.now()), 'topology-submitted')],
    ['Uptime', t.uptime || duration(t.uptimeSeconds)],
    ['Workers', count(t.workersTotal)],
    ['Executors', count(t.executorsTotal)],
    ['Tasks', count(t.tasksTotal)],
    ['Guarantee', t.squallGuarantee || 'at-least-once', 'topology-guarantee'],
    ['Message timeout', `${t.msgTimeout ?? '–'} s`],
    ['In flight', count(t.inFlight)],
  ]);
  byId('window-hint').textContent = t.windowHint ? `window: ${t.windowHint}` : '';

  enableActions(t.status);
}

// renderCheckpoints shows an exactly-once topology's checkpoints (the
// API's squallCheckpoints: null for the other guarantees, and the section
// stays hidden): the last completed one, how long it took, the state it
// staged and its longest alignment, the counts of failed checkpoints and
// restores, and the last failure, folded like the tables' errors.
function renderCheckpoints(cp) {
  byId('checkpoints-section').hidden = !cp;
  if (!cp) return;
  const done = cp.lastCompleted > 0;
  cards(byId('checkpoints'), [
    ['Last completed', lastCheckpoint(cp), 'checkpoint-last'],
    ['Completed at', done ? when(cp.completedAt, 'checkpoint-completed-at') : '–'],
    ['Duration', done ? millis(cp.durationMs) : '–', 'checkpoint-duration'],
    ['Size', done ? size(cp.bytes) : '–', 'checkpoint-size'],
    ['Alignment', done ? millis(cp.alignmentMs) : '–', 'checkpoint-alignment'],
    ['Completed', count(cp.completed), 'checkpoint-completed'],
    ['Failed', count(cp.failed), 'checkpoint-failed'],
    ['Restores', count(cp.restores), 'checkpoint-restores'],
    ['Phase', `${cp.phase || '–'}${cp.epoch ? ` (epoch ${cp.epoch})` : ''}`, 'checkpoint-phase'],
  ]);
  const failure = byId('checkpoint-failure');
  failure.hidden = !cp.lastFailure;
  fillRows(byId('checkpoint-failure-row'), cp.lastFailure
    ? [h('tr', {}, errorCell(cp.lastFailure, {
      time: cp.lastFailureAt, lapsedSecs: cp.lastFailureAt > 0 ? Math.max(0, (Date.now() - cp.lastFailureAt) / 1000) : undefined,
      testid: 'checkpoint-last-failure',
    }))]
    : []);
}

// enableActions enables the actions that make sense in status, none while
// an action runs.
function enableActions(status) {
  byId('activate').disabled = busy || status !== 'INACTIVE';
  byId('deactivate').disabled = busy || status !== 'ACTIVE';
  byId('kill').disabled = busy || status === 'KILLED';
  byId('rebalance-submit').disabled = busy || status === 'KILLED';
}

function renderStats(stats) {
  fillRows(byId('stats'), stats.map((s) =>
    h('tr', {},
      h('td', {}, h('a', { href: `?id=${q(id)}&window=${q(s.window)}`, text: s.windowPretty || s.window })),
      numCell(s.emitted), numCell(s.transferred), latencyCell(s.completeLatency, s.acked), numCell(s.acked), numCell(s.failed))));
}

// failingBadge marks a component whose tasks keep restarting (its rows'
// failing); nothing otherwise.
function failingBadge(row, testid) {
  return row.failing ? h('span', { class: 'status failing', text: 'failing', dataset: { testid } }) : '';
}

// lastError is a component row's last error cell: the node it happened on
// (the API gives its task address; names maps it to the node's name) and
// when.
function lastError(row, testid, names) {
  const addr = hostPort(row.errorHost, row.errorPort);
  return errorCell(row.lastError, { time: row.errorTime, lapsedSecs: row.errorLapsedSecs, node: names.get(addr) || addr, testid });
}

function renderSpouts(spouts, spoutRates, names) {
  fillRows(byId('spouts'), spouts.map((s) =>
    h('tr', { dataset: { testid: `spout-row-${s.spoutId}` } },
      h('td', {}, h('a', { href: componentHref(s.spoutId), text: s.spoutId }), failingBadge(s, `spout-failing-${s.spoutId}`)),
      numCell(s.executors, `spout-executors-${s.spoutId}`), numCell(s.tasks),
      numCell(s.emitted, `spout-emitted-${s.spoutId}`),
      textCell(rate(spoutRates.get(s.spoutId)), `spout-rate-${s.spoutId}`),
      numCell(s.transferred), latencyCell(s.completeLatency, s.acked, `spout-complete-latency-${s.spoutId}`), numCell(s.acked), numCell(s.failed),
      lastError(s, `spout-error-${s.spoutId}`, names))));
}

function renderBolts(bolts, boltRates, names) {
  fillRows(byId('bolts'), bolts.map((b) =>
    h('tr', { dataset: { testid: `bolt-row-${b.boltId}` } },
      h('td', {}, h('a', { href: componentHref(b.boltId), text: b.boltId }), failingBadge(b, `bolt-failing-${b.boltId}`)),
      numCell(b.executors, `bolt-executors-${b.boltId}`), numCell(b.tasks), numCell(b.emitted), numCell(b.transferred),
      textCell(b.capacity ?? '–', `bolt-capacity-${b.boltId}`),
      latencyCell(b.executeLatency, b.executed, `bolt-execute-latency-${b.boltId}`),
      numCell(b.executed, `bolt-executed-${b.boltId}`),
      textCell(rate(boltRates.get(b.boltId)), `bolt-rate-${b.boltId}`),
      latencyCell(b.processLatency, b.acked, `bolt-process-latency-${b.boltId}`), numCell(b.acked), numCell(b.failed),
      lastError(b, `bolt-error-${b.boltId}`, names))));
}

// renderCommands lists the components that run a command line as a
// subprocess (the API's squallCommand: shell components), so an admin
// sees what the topology executes; the section stays hidden when every
// component runs inside the node.
function renderCommands(t) {
  const running = [
    ...t.spouts.map((s) => ({ id: s.spoutId, kind: 'spout', executors: s.executors, command: s.squallCommand })),
    ...t.bolts.map((b) => ({ id: b.boltId, kind: 'bolt', executors: b.executors, command: b.squallCommand })),
  ].filter((c) => Array.isArray(c.command));
  byId('commands-section').hidden = running.length === 0;
  fillRows(byId('commands'), running.map((c) =>
    h('tr', { dataset: { testid: `command-row-${c.id}` } },
      h('td', {}, h('a', { href: componentHref(c.id), text: c.id })),
      h('td', { text: c.kind }),
      numCell(c.executors),
      h('td', { class: 'command' },
        h('code', { text: commandLine(c.command), dataset: { testid: `command-${c.id}`, argv: JSON.stringify(c.command) } })))));
}

function renderConfiguration(conf = {}) {
  fillRows(byId('configuration'), Object.keys(conf).sort().map((k) =>
    h('tr', {}, h('td', { text: k }), h('td', { text: JSON.stringify(conf[k]) }))));
}

// renderRebalance lists the components in the rebalance form, keeping the
// user's choice across polls; choosing one puts its executors in the
// parallelism box, bounded by its maximum (the tasks fixed at submit).
function renderRebalance(t) {
  const select = byId('rebalance-component');
  const components = [
    ...t.spouts.map((s) => ({ id: s.spoutId, executors: s.executors, maxTasks: s.maxTasks })),
    ...t.bolts.map((b) => ({ id: b.boltId, executors: b.executors, maxTasks: b.maxTasks })),
  ];
  rebalanceChoices = new Map(components.map((c) => [c.id, c]));
  if ([...select.options].map((o) => o.value).join() === components.map((c) => c.id).join()) return;
  const chosen = select.value;
  select.replaceChildren(...components.map((c) => new Option(c.id, c.id, false, c.id === chosen)));
  chooseRebalance();
}

function chooseRebalance() {
  const c = rebalanceChoices.get(byId('rebalance-component').value);
  const input = byId('rebalance-parallelism');
  if (!c) return;
  input.value = String(c.executors);
  if (Number.isFinite(c.maxTasks)) input.max = String(c.maxTasks);
}

// graphOf merges the edges of one source, target pair (several streams)
// and attaches every component's rate and capacity.
function graphOf(t, spoutRates, boltRates, edgeRates) {
  const components = [
    ...t.spouts.map((s) => ({ id: s.spoutId, kind: 'spout', executors: s.executors, rate: spoutRates.get(s.spoutId), href: componentHref(s.spoutId) })),
    ...t.bolts.map((b) => ({ id: b.boltId, kind: 'bolt', executors: b.executors, rate: boltRates.get(b.boltId), capacity: b.capacity, href: componentHref(b.boltId) })),
  ];
  const merged = new Map();
  for (const e of t.edges ?? []) {
    const key = `${e.source}\u0000${e.target}`;
    const m = merged.get(key) ?? { source: e.source, target: e.target, streams: [], groupings: [], rate: null };
    m.streams.push(e.stream);
    m.groupings.push(e.grouping);
    const r = edgeRates.get(`${e.source}\u0000${e.stream}\u0000${e.target}`);
    if (r !== null && r !== undefined) m.rate = (m.rate ?? 0) + r;
    merged.set(key, m);
  }
  return { components, edges: [...merged.values()] };
}

// errorNodeNames maps task addresses to node names when a component shows
// an error (the topology's rows name only the task's host and port): from
// the supervisor summary, fetched only then. Without it the address shows.
async function errorNodeNames(t) {
  if (![...t.spouts, ...t.bolts].some((c) => c.lastError)) return new Map();
  const s = await get('/api/v1/supervisor/summary').catch(() => null);
  return nodeNames(s?.supervisors);
}

async function update() {
  if (!id) throw new Error('no topology: open this page as topology.html?id=NAME');
  const path = `/api/v1/topology/${q(id)}`;
  const [t, all] = await getWindowed(path, win);
  const now = Date.now();
  const spoutRates = new Map(all.spouts.map((s) => [s.spoutId, rates.update(`spout ${s.spoutId}`, s.emitted, now)]));
  const boltRates = new Map(all.bolts.map((b) => [b.boltId, rates.update(`bolt ${b.boltId}`, b.executed, now)]));
  const edgeRates = new Map((t.edges ?? []).map((e) => {
    const key = `${e.source}\u0000${e.stream}\u0000${e.target}`;
    return [key, rates.update(`edge ${key}`, e.transferred, now)];
  }));

  current = t;
  renderSummary(t);
  renderCheckpoints(t.squallCheckpoints);
  renderCommands(t);
  renderRebalance(t);
  const graph = graphOf(t, spoutRates, boltRates, edgeRates);
  renderGraph(byId('graph'), graph.components, graph.edges);
  renderStats(t.topologyStats ?? []);
  const names = await errorNodeNames(t);
  renderSpouts(t.spouts, spoutRates, names);
  renderBolts(t.bolts, boltRates, names);
  renderConfiguration(t.configuration);
}

frame();
const refresh = poll(update);

// act runs one action with the buttons disabled, reports its outcome next
// to them and polls at once to show its effect.
async function act(name, run) {
  const result = byId('action-result');
  busy = true;
  enableActions(current?.status);
  result.className = '';
  result.textContent = `${name}…`;
  try {
    const answer = await run();
    result.textContent = `${name}: ${answer.status ?? 'done'}`;
    result.className = 'ok';
  } catch (err) {
    result.textContent = `${name} failed: ${err.message}`;
    result.className = 'error';
  } finally {
    busy = false;
    enableActions(current?.status);
    refresh();
  }
}

const wait = () => Math.max(0, Number.parseInt(byId('wait').value, 10) || 0);

byId('activate').addEventListener('click', () => act('activate', () => actions.activate(id)));
byId('deactivate').addEventListener('click', () => act('deactivate', () => actions.deactivate(id)));
byId('kill').addEventListener('click', () => {
  const name = current?.name ?? id;
  if (!window.confirm(`Kill topology "${name}"? Its spouts stop now and it is removed after ${wait()} s.`)) return;
  act('kill', () => actions.kill(id, wait()));
});
byId('rebalance-component').addEventListener('change', chooseRebalance);
byId('rebalance').addEventListener('submit', (event) => {
  event.preventDefault();
  const component = byId('rebalance-component').value;
  const parallelism = Number.parseInt(byId('rebalance-parallelism').value, 10);
  if (!component || !(parallelism >= 1)) return;
  act('rebalance', () => actions.rebalance(id, { [component]: parallelism }, wait()));
});
