// The cluster page: the summary, the nodes (supervisors, in Storm's words)
// and the topologies, polled every 2 s.

import { get } from './api.js';
import { byId, fillRows, h } from './dom.js';
import { count, duration, startedAt, submittedAt } from './format.js';
import { cards, frame, numCell, poll, showWarning, uptimeCell } from './page.js';

// version names squall's build and, when it says one, the Storm version
// whose REST API it answers.
function version(s) {
  const squall = `squall ${s.squallVersion ?? '?'}`;
  return s.stormVersion && s.stormVersion !== s.squallVersion ? `${squall} (Storm ${s.stormVersion})` : squall;
}

function renderSummary(s) {
  cards(byId('summary'), [
    ['Version', version(s), 'summary-version'],
    ['Nodes', count(s.supervisors), 'summary-nodes'],
    ['Topologies', count(s.topologies), 'summary-topologies'],
    ['Slots used / total', `${count(s.slotsUsed)} / ${count(s.slotsTotal)}`, 'summary-slots'],
    ['Executors', count(s.executorsTotal), 'summary-executors'],
    ['Tasks', count(s.tasksTotal), 'summary-tasks'],
  ]);
}

// nodeLink points at another node's own UI when it serves one.
function nodeLink(addr) {
  return addr ? h('a', { href: `${window.location.protocol}//${addr}/`, text: addr }) : '–';
}

function renderNodes(supervisors) {
  fillRows(byId('nodes'), supervisors.map((s) =>
    h('tr', { dataset: { testid: `node-row-${s.id}` } },
      h('td', { text: s.id }),
      h('td', { text: s.host }),
      h('td', {}, h('span', { class: `status ${s.status}`, text: s.status, dataset: { testid: `node-status-${s.id}` } })),
      uptimeCell(s.uptime || '–', s.uptime ? startedAt(s.uptimeSeconds, Date.now()) : null),
      numCell(s.slotsTotal),
      numCell(s.slotsUsed),
      numCell(s.tasks, `node-tasks-${s.id}`),
      h('td', { text: s.gossipAddr || '–' }),
      h('td', {}, nodeLink(s.httpAddr)))), 'no nodes');
}

function renderTopologies(topologies) {
  fillRows(byId('topologies'), topologies.map((t) =>
    h('tr', { dataset: { testid: `topology-row-${t.name}` } },
      h('td', {}, h('a', { href: `topology.html?id=${encodeURIComponent(t.id)}`, text: t.name })),
      h('td', { text: t.id }),
      h('td', {}, h('span', { class: `status ${t.status}`, text: t.status }),
        (t.failingComponents ?? []).length > 0 ? h('span', { class: 'status failing', text: 'failing', title: t.failingComponents.join(', ') }) : ''),
      uptimeCell(t.uptime || duration(t.uptimeSeconds), submittedAt(t.id, t.name) ?? startedAt(t.uptimeSeconds, Date.now()), 'submitted'),
      numCell(t.workersTotal),
      numCell(t.executorsTotal),
      numCell(t.tasksTotal))), 'no topologies: submit one with `node submit`');
}

frame();
poll(async () => {
  const [summary, supervisors, topologies] = await Promise.all([
    get('/api/v1/cluster/summary'),
    get('/api/v1/supervisor/summary'),
    get('/api/v1/topology/summary'),
  ]);
  renderSummary(summary);
  showWarning(summary);
  renderNodes(supervisors.supervisors ?? []);
  renderTopologies(topologies.topologies ?? []);
});
