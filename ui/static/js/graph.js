// The topology's component graph: layout (pure, testable under node) and
// an SVG rendering. Components stand in columns by depth from the spouts
// (the longest path from a spout, so a bolt sits right of everything that
// feeds it); within a column they are ordered by where their inputs are,
// which keeps most edges from crossing.

import { h } from './dom.js';
import { capacityLevel, rate } from './format.js';

export const box = { width: 220, height: 58, colGap: 130, rowGap: 30, margin: 24 };

// layout places components ([{id, kind}]) joined by edges ([{source,
// target}]) and returns {nodes: Map(id -> {id, kind, depth, x, y}), width,
// height}. Cycles (Storm allows them) are cut: depth stops growing after
// as many rounds as there are components.
export function layout(components, edges) {
  const ids = new Set(components.map((c) => c.id));
  const links = edges.filter((e) => ids.has(e.source) && ids.has(e.target) && e.source !== e.target);
  const depth = new Map(components.map((c) => [c.id, c.kind === 'spout' ? 0 : 1]));
  for (let round = 0; round < components.length; round++) {
    let changed = false;
    for (const { source, target } of links) {
      if (depth.get(target) < depth.get(source) + 1) {
        depth.set(target, depth.get(source) + 1);
        changed = true;
      }
    }
    if (!changed) break;
  }

  const columns = [];
  for (const c of components) {
    const d = depth.get(c.id);
    (columns[d] ??= []).push(c);
  }
  const nodes = new Map();
  const step = box.height + box.rowGap;
  columns.forEach((column = [], d) => {
    const inputsAt = (c) => {
      const ys = links.filter((e) => e.target === c.id && nodes.has(e.source)).map((e) => nodes.get(e.source).y);
      return ys.length === 0 ? Infinity : ys.reduce((a, b) => a + b, 0) / ys.length;
    };
    const ordered = column
      .map((c) => ({ c, at: inputsAt(c) }))
      .sort((a, b) => a.at - b.at || a.c.id.localeCompare(b.c.id));
    ordered.forEach(({ c }, row) => {
      nodes.set(c.id, { id: c.id, kind: c.kind, depth: d, x: box.margin + d * (box.width + box.colGap), y: box.margin + row * step });
    });
  });
  const cols = Math.max(columns.length, 1);
  const rows = Math.max(1, ...columns.map((c = []) => c.length));
  return {
    nodes,
    width: 2 * box.margin + cols * box.width + (cols - 1) * box.colGap,
    height: 2 * box.margin + rows * box.height + (rows - 1) * box.rowGap,
  };
}

// ports spreads the edges leaving and entering each box over its right
// and left sides, ordered by where their other ends are, so edges of one
// box neither start at one point nor stack their labels. It returns a Map
// from each edge whose ends are both placed to {from: {x, y}, to: {x, y}}.
export function ports(nodes, edges) {
  const placed = edges.filter((e) => nodes.has(e.source) && nodes.has(e.target));
  const at = new Map(placed.map((e) => [e, {}]));
  const spread = (end, otherEnd, side) => {
    const byBox = new Map();
    for (const e of placed) byBox.set(e[end], [...(byBox.get(e[end]) ?? []), e]);
    for (const [id, list] of byBox) {
      const n = nodes.get(id);
      list.sort((a, b) => nodes.get(a[otherEnd]).y - nodes.get(b[otherEnd]).y);
      list.forEach((e, i) => {
        at.get(e)[side] = {
          x: side === 'from' ? n.x + box.width : n.x,
          y: n.y + (box.height * (i + 1)) / (list.length + 1),
        };
      });
    }
  };
  spread('source', 'target', 'from');
  spread('target', 'source', 'to');
  return at;
}

// edgePath is a smooth curve leaving p1 and entering p2 horizontally (a
// loop back when p2 is left of p1).
function edgePath(p1, p2) {
  const bend = Math.max(40, Math.abs(p2.x - p1.x) / 2);
  return `M ${p1.x} ${p1.y} C ${p1.x + bend} ${p1.y}, ${p2.x - bend} ${p2.y}, ${p2.x} ${p2.y}`;
}

// render draws the graph into svg. components are [{id, kind, executors,
// rate, capacity, href}], edges [{source, target, streams, rate}] with
// rates in tuples/s (null before the second poll).
export function render(svg, components, edges) {
  const { nodes, width, height } = layout(components, edges);
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);

  const marker = h('svg:marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 12, markerHeight: 12, markerUnits: 'userSpaceOnUse', orient: 'auto' },
    h('svg:path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }));
  const drawn = [h('svg:defs', {}, marker)];

  const at = ports(nodes, edges);
  for (const e of edges) {
    const p = at.get(e);
    if (!p) continue;
    const widthPx = 1.5 + Math.min(6, Math.log10(1 + (e.rate ?? 0)));
    const label = `${rate(e.rate)}/s${e.streams.some((s) => s !== 'default') ? ` (${e.streams.join(', ')})` : ''}`;
    // The label sits above the edge where it leaves its box, horizontally.
    drawn.push(h('svg:g', { class: 'edge', dataset: { testid: `graph-edge-${e.source}-${e.target}`, rate: e.rate ?? '' } },
      h('svg:title', { text: `${e.source} → ${e.target}: ${e.streams.join(', ')} (${e.groupings.join(', ')})` }),
      h('svg:path', { d: edgePath(p.from, p.to), 'stroke-width': widthPx.toFixed(1), 'marker-end': 'url(#arrow)' }),
      h('svg:text', { x: p.from.x + 8, y: p.from.y - 6, class: 'edge-label', text: label })));
  }

  for (const c of components) {
    const n = nodes.get(c.id);
    const level = c.kind === 'spout' ? 'spout' : capacityLevel(c.capacity);
    const detail = c.kind === 'spout'
      ? `${rate(c.rate)} emitted/s`
      : `${rate(c.rate)} executed/s · cap ${c.capacity ?? '–'}`;
    drawn.push(h('svg:a', { href: c.href, class: `node ${level}`, dataset: { testid: `graph-node-${c.id}`, capacity: level } },
      h('svg:title', { text: `${c.kind} ${c.id}: ${c.executors} executors` }),
      h('svg:rect', { x: n.x, y: n.y, width: box.width, height: box.height, rx: 8 }),
      h('svg:text', { x: n.x + 12, y: n.y + 23, class: 'node-name', text: `${c.id} ×${c.executors}` }),
      h('svg:text', { x: n.x + 12, y: n.y + 44, class: 'node-detail', text: detail })));
  }
  svg.replaceChildren(...drawn);
}
