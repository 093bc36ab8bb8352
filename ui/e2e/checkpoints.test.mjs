// End-to-end test of the topology page's Checkpoints card in headless
// Chromium:
//
//   node checkpoints.test.mjs http://127.0.0.1:8080 TOPOLOGY
//
// against an open node (no token) running TOPOLOGY exactly-once. It opens
// the topology page and waits for the Checkpoints section to show the
// last completed checkpoint ("#N (… ago)"), at least two completed, and
// then a later one than the first it saw; duration, size and alignment
// filled, no failure shown. Every wait polls with a deadline; a failure
// exits 1 saying what it waited for and what it saw last. Chromium is
// Debian's (/usr/bin/chromium, or $SQUALL_CHROMIUM), driven by
// playwright-core, as in topology.test.mjs.

import { chromium } from 'playwright-core';

const [base, topology] = process.argv.slice(2);
if (!base || !topology) {
  console.error('usage: node checkpoints.test.mjs BASE_URL TOPOLOGY');
  process.exit(2);
}
const executablePath = process.env.SQUALL_CHROMIUM || '/usr/bin/chromium';
const log = (msg) => console.log(`checkpoints.test: ${msg}`);

// waitFor polls check (which reports what it saw through seen) until it
// returns a value, or fails after timeoutMs with the last thing seen.
async function waitFor(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const got = await check((s) => { last = s; });
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// topology.test.mjs's flags: no sandbox as root, nothing that phones home.
const args = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const browser = await chromium.launch({ executablePath, headless: true, args });
let failed = false;
try {
  const page = await browser.newPage();
  const url = `${base}/topology.html?id=${encodeURIComponent(topology)}`;
  log(`open ${url}`);
  await page.goto(url);
  const card = () => page.evaluate(() => {
    const text = (id) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? null;
    return {
      visible: document.querySelector('[data-testid="checkpoints"]')?.checkVisibility() ?? null,
      last: text('checkpoint-last'),
      completed: text('checkpoint-completed'),
      duration: text('checkpoint-duration'),
      size: text('checkpoint-size'),
      alignment: text('checkpoint-alignment'),
      failure: document.querySelector('[data-testid="checkpoint-failure"]')?.checkVisibility() ?? null,
      guarantee: text('topology-guarantee'),
      apiError: text('api-error'),
    };
  });
  const idOf = (last) => Number(/^#(\d+)/.exec(last ?? '')?.[1] ?? 0);
  const first = await waitFor('the Checkpoints card with two checkpoints completed', async (seen) => {
    const c = await card();
    seen(JSON.stringify(c));
    const ok = c.visible && c.guarantee === 'exactly-once' && /^#\d+ \(.+ ago\)$/.test(c.last ?? '') &&
      Number((c.completed ?? '').replaceAll(',', '')) >= 2 && idOf(c.last) > 0;
    return ok ? c : undefined;
  });
  log(`shown: ${JSON.stringify(first)}`);
  const later = await waitFor(`a checkpoint completed after #${idOf(first.last)}`, async (seen) => {
    const c = await card();
    seen(JSON.stringify(c));
    return idOf(c.last) > idOf(first.last) ? c : undefined;
  });
  log(`then: ${JSON.stringify(later)}`);
  for (const k of ['duration', 'size', 'alignment']) {
    if (!later[k] || later[k] === '–') throw new Error(`the card's ${k} is ${JSON.stringify(later[k])}, want a value`);
  }
  if (!/ (B|KiB|MiB|GiB)$/.test(later.size)) throw new Error(`size ${JSON.stringify(later.size)}: not in bytes`);
  if (later.failure !== false) throw new Error(`the last failure shows (${later.failure}) with no checkpoint failed`);
  log('ok');
} catch (err) {
  failed = true;
  console.error(`checkpoints.test: FAIL: ${err.message}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
