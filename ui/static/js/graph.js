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

// edgePath is a smooth curve from the right side of a to the left side of
// b (or a loop back when b is not right of a).
export function edgePath(a, b) {
  const x1 = a.x + box.width;
  const y1 = a.y + box.height / 2;
  const x2 = b.x;
  const y2 = b.y + box.height / 2;
  const bend = Math.max(40, Math.abs(x2 - x1) / 2);
  return `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`;
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

  for (const e of edges) {
    const a = nodes.get(e.source);
    const b = nodes.get(e.target);
    if (!a || !b) continue;
    const d = edgePath(a, b);
    const widthPx = 1.5 + Math.min(6, Math.log10(1 + (e.rate ?? 0)));
    const label = `${rate(e.rate)}/s${e.streams.some((s) => s !== 'default') ? ` (${e.streams.join(', ')})` : ''}`;
    const mx = (a.x + box.width + b.x) / 2;
    const my = (a.y + b.y + box.height) / 2;
    drawn.push(h('svg:g', { class: 'edge', dataset: { testid: `graph-edge-${e.source}-${e.target}`, rate: e.rate ?? '' } },
      h('svg:title', { text: `${e.source} → ${e.target}: ${e.streams.join(', ')} (${e.groupings.join(', ')})` }),
      h('svg:path', { d, 'stroke-width': widthPx.toFixed(1), 'marker-end': 'url(#arrow)' }),
      h('svg:text', { x: mx, y: my - 10, 'text-anchor': 'middle', class: 'edge-label', text: label })));
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
