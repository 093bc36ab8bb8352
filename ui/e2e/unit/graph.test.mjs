import assert from 'node:assert/strict';
import { test } from 'node:test';

import { box, layout, ports } from '../../static/js/graph.js';

const depths = (g) => Object.fromEntries([...g.nodes.values()].map((n) => [n.id, n.depth]));

test('components stand in columns by their longest path from a spout', () => {
  const components = [
    { id: 'count', kind: 'bolt' }, { id: 'lines', kind: 'spout' }, { id: 'split', kind: 'bolt' }, { id: 'audit', kind: 'bolt' },
  ];
  const edges = [
    { source: 'lines', target: 'split' }, { source: 'split', target: 'count' },
    { source: 'lines', target: 'count' }, { source: 'count', target: 'audit' },
  ];
  const g = layout(components, edges);
  assert.deepEqual(depths(g), { lines: 0, split: 1, count: 2, audit: 3 });
  assert.equal(g.nodes.get('split').x, box.margin + box.width + box.colGap);
  assert.equal(g.width, 2 * box.margin + 4 * box.width + 3 * box.colGap);
});

test('a column is ordered by where its inputs are, then by name', () => {
  const components = [
    { id: 'b', kind: 'spout' }, { id: 'a', kind: 'spout' }, { id: 'fromB', kind: 'bolt' }, { id: 'fromA', kind: 'bolt' }, { id: 'orphan', kind: 'bolt' },
  ];
  const edges = [{ source: 'a', target: 'fromA' }, { source: 'b', target: 'fromB' }];
  const g = layout(components, edges);
  const column = (d) => [...g.nodes.values()].filter((n) => n.depth === d).sort((x, y) => x.y - y.y).map((n) => n.id);
  assert.deepEqual(column(0), ['a', 'b']);
  assert.deepEqual(column(1), ['fromA', 'fromB', 'orphan'], 'a bolt without inputs goes last in the first bolt column');
  assert.equal(g.height, 2 * box.margin + 3 * box.height + 2 * box.rowGap);
});

test('a cycle (Storm allows them) ends the layout', () => {
  const components = [{ id: 's', kind: 'spout' }, { id: 'x', kind: 'bolt' }, { id: 'y', kind: 'bolt' }];
  const edges = [{ source: 's', target: 'x' }, { source: 'x', target: 'y' }, { source: 'y', target: 'x' }, { source: 'x', target: 'x' }];
  const g = layout(components, edges);
  assert.equal(g.nodes.size, 3);
  for (const n of g.nodes.values()) assert.ok(Number.isFinite(n.x) && Number.isFinite(n.y), `${n.id} placed`);
});

test('edges naming unknown components are ignored', () => {
  const g = layout([{ id: 's', kind: 'spout' }], [{ source: 's', target: '__acker' }]);
  assert.deepEqual(depths(g), { s: 0 });
});

test('edges of one box leave and enter at spread ports, ordered by their other ends', () => {
  const components = [{ id: 's', kind: 'spout' }, { id: 'a', kind: 'bolt' }, { id: 'b', kind: 'bolt' }, { id: 'sink', kind: 'bolt' }];
  const edges = [
    { source: 's', target: 'b' }, { source: 's', target: 'a' },
    { source: 'a', target: 'sink' }, { source: 'b', target: 'sink' },
    { source: 's', target: 'gone' },
  ];
  const { nodes } = layout(components, edges);
  const at = ports(nodes, edges);
  assert.equal(at.size, 4, 'an edge to an unplaced component gets no ports');
  const [sb, sa, as, bs] = edges.map((e) => at.get(e));
  const s = nodes.get('s');
  assert.deepEqual(sa.from, { x: s.x + box.width, y: s.y + box.height / 3 }, 'to the upper bolt: upper port');
  assert.deepEqual(sb.from, { x: s.x + box.width, y: s.y + (2 * box.height) / 3 });
  assert.ok(as.to.y < bs.to.y, 'into sink: from the upper bolt above');
  assert.equal(as.from.y, nodes.get('a').y + box.height / 2, 'a single edge leaves mid-side');
});
