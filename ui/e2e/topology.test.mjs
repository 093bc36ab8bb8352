// End-to-end test of squall's web UI in headless Chromium:
//
//   node topology.test.mjs http://127.0.0.1:8080 [topology] [spout] [bolt]
//
// against a node running a word count (topology "wordcount", spout
// "lines", bolt "count" by default).
//
// With $SQUALL_ADMIN_TOKEN (a node with an admin token) it first signs in
// as a user does: opening the topology page lands on the node's sign-in
// form (/login), which refuses a wrong token and, given the right one,
// signs in (an HttpOnly session cookie) and lands on the cluster page with
// no token in the URL. Without it (a node run with --insecure and no
// token) the pages open at once and show no Sign out.
//
// Then it opens the topology page, checks the --insecure warning banner
// ($SQUALL_UI_WARNING: "shown" or "hidden") and the "Runs commands"
// section ($SQUALL_UI_COMMANDS: a JSON {component: argv}), sees the
// spout's emitted and the bolt's executed counts grow and the graph drawn,
// checks the dates, "–" and errors the tables show ($SQUALL_UI_NODE: the
// node's name, shown where a task runs; $SQUALL_UI_ERROR_BOLT reports
// $SQUALL_UI_ERROR, a long multi-line traceback, and
// $SQUALL_UI_IDLE_BOLT never executes: its latencies show "–"),
// presses Deactivate (no prompt: the cookie and the session's CSRF token
// do it, and no request carries an Authorization header), sees the status
// turn INACTIVE and the spout stop, presses Activate and sees the counts
// grow again, rebalances the bolt and sees its executors follow, checks
// that the component and cluster pages render (with the banner too). With
// a token it then signs out (back to /login, the API answers 401) and
// signs in again by opening the topology page with ?token= (the token
// leaves the URL); when the cookie then goes under the open page, its
// next poll (401) opens /login. Last it kills the topology (accepting the
// confirm dialog). Every wait polls with a deadline. Any failure exits 1
// saying what it waited for and what it saw last; screenshots go to
// $SQUALL_UI_SHOTS (default: .cache/ui in the repo), their names prefixed
// with $SQUALL_UI_SHOTS_PREFIX.
//
// Chromium is Debian's (/usr/bin/chromium, or $SQUALL_CHROMIUM), driven by
// playwright-core: `npx playwright install` cannot download a browser here.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const [base, topology = 'wordcount', spout = 'lines', bolt = 'count'] = process.argv.slice(2);
if (!base) {
  console.error('usage: node topology.test.mjs BASE_URL [topology] [spout] [bolt]');
  process.exit(2);
}
const executablePath = process.env.SQUALL_CHROMIUM || '/usr/bin/chromium';
const shots = process.env.SQUALL_UI_SHOTS || fileURLToPath(new URL('../../.cache/ui/', import.meta.url));
const shotPrefix = process.env.SQUALL_UI_SHOTS_PREFIX || '';
const shot = (name) => join(shots, `${shotPrefix}${name}.png`);
const token = process.env.SQUALL_ADMIN_TOKEN || '';
const wantWarning = process.env.SQUALL_UI_WARNING || '';
const wantCommands = JSON.parse(process.env.SQUALL_UI_COMMANDS || 'null');
const nodeName = process.env.SQUALL_UI_NODE || '';
// The bolt that reports an error (a multi-line traceback) and the error,
// and the bolt that never executes a tuple (its latencies never measured).
const errorBolt = process.env.SQUALL_UI_ERROR_BOLT || '';
const wantError = process.env.SQUALL_UI_ERROR || '';
const idleBolt = process.env.SQUALL_UI_IDLE_BOLT || '';
// A local date and time as the UI shows one.
const dateRe = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const origin = new URL(base).origin;

// The flags this machine's Chromium needs: no sandbox as root, and nothing
// that phones home (its connections would be refused by the closed network).
const args = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}`);

// waitFor polls probe every 100 ms until it returns something other than
// undefined, and fails after timeoutMs saying what it waited for and what
// it saw last.
async function waitFor(what, probe, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last = 'nothing yet';
  for (;;) {
    const got = await probe((seen) => { last = seen; });
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what} (last seen: ${last})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main(page) {
  const byTestId = (id) => `[data-testid="${id}"]`;
  // read returns an element's text (or attribute), or null when absent.
  const read = (testid, attr = null) => page.evaluate(([sel, a]) => {
    const el = document.querySelector(sel);
    return el === null ? null : a === null ? el.textContent.trim() : el.getAttribute(a);
  }, [byTestId(testid), attr]);
  const polls = async () => Number(await read('updated', 'data-polls') ?? 0);
  // count reads a table cell's raw number, or null before it is shown.
  const count = async (testid) => {
    const v = await read(testid, 'data-value');
    return v === null ? null : Number(v);
  };
  const emitted = () => count(`spout-emitted-${spout}`);
  const status = () => read('topology-status');

  // waitPolls waits until the page has polled the API n more times.
  const waitPolls = async (n) => {
    const from = await polls();
    await waitFor(`${n} more polls of the API`, async (seen) => {
      const now = await polls();
      seen(`${now - from} polls`);
      return now - from >= n ? true : undefined;
    }, 10_000 + n * 5_000);
  };

  // waitGrowth waits until a count (a table cell) exceeds what it is now.
  const waitGrowth = async (what, testid, why) => {
    const from = await waitFor(`${what} in its table`, async (seen) => {
      const v = await count(testid);
      seen(`${v}, api error: ${await read('api-error')}`);
      return v === null ? undefined : v;
    });
    const to = await waitFor(`${what} to grow past ${from} (${why})`, async (seen) => {
      const v = await count(testid);
      seen(String(v));
      return v > from ? v : undefined;
    });
    log(`${what}: ${from} -> ${to} (${why})`);
  };
  const countsGrow = async (why) => {
    await waitGrowth(`spout "${spout}"'s emitted count`, `spout-emitted-${spout}`, why);
    await waitGrowth(`bolt "${bolt}"'s executed count`, `bolt-executed-${bolt}`, why);
  };

  // press clicks an action button and waits for the status it leads to.
  // No prompt may open: the session cookie and its CSRF token are all
  // the UI needs.
  const press = async (button, wantStatus) => {
    await page.click(byTestId(button));
    await waitFor(`status ${wantStatus} after pressing ${button}`, async (seen) => {
      if (await page.$('dialog[open]')) throw new Error(`a dialog opened after ${button}: the UI must not ask for a token`);
      const result = await read('action-result');
      if (result?.startsWith(`${button} failed`)) throw new Error(result);
      const s = await status();
      seen(`status ${s}, action result "${result}"`);
      return s === wantStatus ? s : undefined;
    });
    log(`pressed ${button}: status ${wantStatus} (${await read('action-result')})`);
  };

  // pathOf is the page's URL path and query, checked to carry no token.
  const pathOf = () => {
    const u = new URL(page.url());
    if (token && page.url().includes(token)) throw new Error(`the admin token is in the URL: ${page.url()}`);
    return u.pathname + u.search;
  };

  // checkFrame checks what every page shows around its content: the
  // --insecure warning as the node's summary says, and the session.
  const checkFrame = async (where) => {
    await waitFor(`the frame of ${where} to be filled`, async (seen) => {
      const ready = await page.evaluate(() => document.body.dataset.frame ?? null);
      seen(`${ready}, api error: ${await read('api-error')}`);
      return ready === 'ready' || undefined;
    });
    if (wantWarning) {
      await waitFor(`the --insecure warning ${wantWarning} on ${where}`, async (seen) => {
        const visible = await page.isVisible(byTestId('insecure-warning'));
        const text = await read('insecure-warning');
        seen(`visible ${visible}: "${text}"`);
        if (wantWarning === 'shown') return visible && text.includes('--insecure') ? text : undefined;
        return visible ? undefined : true;
      });
    }
    await waitFor(`the session in the header of ${where}`, async (seen) => {
      const signOut = await page.isVisible(byTestId('sign-out'));
      const who = await read('session-user');
      seen(`sign out visible ${signOut}, session "${who}"`);
      if (token) return signOut && who === 'admin (signed in)' ? true : undefined;
      return !signOut && !(await page.isVisible(byTestId('session'))) ? true : undefined;
    });
  };

  // checkSubmitted checks the topology's submit time in its summary: a
  // local date, its epoch ms (the id's tail) in the title.
  const checkSubmitted = async () => {
    const id = (await (await page.request.get(`${base}/api/v1/topology/${encodeURIComponent(topology)}`)).json()).id;
    const shown = await waitFor('the submit time in the topology summary', async (seen) => {
      const got = await page.evaluate(() => {
        const el = document.querySelector('[data-testid="topology-submitted"]');
        if (!el) return null;
        const ms = Number(el.getAttribute('title'));
        const d = new Date(ms);
        const p = (n) => String(n).padStart(2, '0');
        const local = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
        return { text: el.textContent, title: el.getAttribute('title'), local };
      });
      seen(JSON.stringify(got));
      return got && dateRe.test(got.text) ? got : undefined;
    });
    if (!id.endsWith(`-${shown.title}`) || shown.text !== shown.local) {
      throw new Error(`topology ${id}: submitted shows ${JSON.stringify(shown)}, want the local date of the id's epoch ms, that value in the title`);
    }
    log(`submitted: ${shown.text} (title ${shown.title}, id ${id})`);
  };

  // checkLatencies checks that a bolt that never executed shows "–" for
  // its latencies, beside one that did.
  const checkLatencies = async () => {
    if (!idleBolt) return;
    const got = await waitFor(`"${idleBolt}"'s latencies beside "${bolt}"'s`, async (seen) => {
      const l = {
        idleExecute: await read(`bolt-execute-latency-${idleBolt}`), idleProcess: await read(`bolt-process-latency-${idleBolt}`),
        execute: await read(`bolt-execute-latency-${bolt}`),
      };
      seen(JSON.stringify(l));
      return l.idleExecute !== null && l.execute?.endsWith(' ms') ? l : undefined;
    });
    if (got.idleExecute !== '–' || got.idleProcess !== '–') {
      throw new Error(`bolt "${idleBolt}" never executes, yet shows latencies ${JSON.stringify(got)}; want "–"`);
    }
    log(`latencies: "${idleBolt}" never measured: ${got.idleExecute}; "${bolt}" executes in ${got.execute}`);
  };

  // checkErrors checks the spout and bolt tables' last errors: none but
  // errorBolt's, a long multi-line traceback, whose headline is its
  // exception, shown with the node's name and a date; opened, the whole
  // traceback reads as written and wraps within its cell, the table within its section (no sideways scroll).
  const checkErrors = async () => {
    // flaky's Prepare fails on purpose (it shows as failing).
    const others = await page.$$eval('[data-testid="spouts"] td.error, [data-testid="bolts"] td.error', (els, b) =>
      els.filter((el) => !el.closest(`[data-testid="bolt-row-${b}"]`) && !el.closest('[data-testid="bolt-row-flaky"]')).map((el) => el.textContent), errorBolt);
    if (others.length > 0) throw new Error(`components show errors: ${others.join('; ')}`);
    if (!errorBolt) return;
    const testid = `bolt-error-${errorBolt}`;
    const cell = () => page.evaluate((id) => {
      const el = document.querySelector(`[data-testid="${id}"]`);
      if (!el) return null;
      const td = el.closest('td');
      const pre = el.querySelector('pre');
      const time = td.querySelector('time');
      return {
        tag: el.tagName, head: el.querySelector('.error-head')?.textContent, open: el.open,
        node: td.querySelector(`[data-testid="${id}-node"]`)?.textContent, time: time?.textContent, timeTitle: time?.getAttribute('title'),
        tdWidth: td.getBoundingClientRect().width, tableWidth: td.closest('table').getBoundingClientRect().width,
        room: td.closest('section').clientWidth, tdMin: Number.parseFloat(getComputedStyle(td).minWidth), pre: pre?.textContent, preWhiteSpace: pre ? getComputedStyle(pre).whiteSpace : null,
        preOverflow: pre ? pre.scrollWidth - pre.clientWidth : null, preVisible: pre?.checkVisibility() ?? false,
        preInside: pre ? pre.getBoundingClientRect().right <= td.getBoundingClientRect().right + 0.5 : null,
      };
    }, testid);
    const closed = await waitFor(`bolt "${errorBolt}"'s last error in the bolts table`, async (seen) => {
      const c = await cell();
      seen(JSON.stringify(c)?.slice(0, 300));
      return c ?? undefined;
    });
    const lines = wantError.split('\n');
    const exception = lines.at(-1);
    const problems = [];
    if (closed.tag !== 'DETAILS') problems.push(`a long traceback is not in a <details> (${closed.tag})`);
    if (!closed.head?.endsWith('…') || !exception.startsWith(closed.head.slice(0, -1))) problems.push(`headline "${closed.head}" is not the exception cut short`);
    if (closed.preVisible) problems.push('the whole traceback shows before it is opened');
    if (nodeName && closed.node !== nodeName) problems.push(`node "${closed.node}", want "${nodeName}"`);
    if (!dateRe.test(closed.time ?? '') || !/^\d+$/.test(closed.timeTitle ?? '')) problems.push(`time "${closed.time}" (title ${closed.timeTitle}) is not a date with its epoch ms`);
    // The table fits its section, or the error's column is at its
    // narrowest: the other columns, not the error, need the room.
    const blownUp = (c) => c.tableWidth > c.room + 0.5 && c.tdWidth > c.tdMin + 0.5;
    if (blownUp(closed)) problems.push(`the bolts table is ${closed.tableWidth}px wide, its section ${closed.room}px, the error's cell ${closed.tdWidth}px`);
    if (problems.length > 0) throw new Error(`bolt "${errorBolt}"'s error: ${problems.join('; ')}`);
    await page.click(`[data-testid="${testid}"] summary`);
    const opened = await waitFor(`bolt "${errorBolt}"'s traceback to open`, async (seen) => {
      const c = await cell();
      seen(JSON.stringify(c)?.slice(0, 300));
      return c?.open && c.preVisible ? c : undefined;
    });
    if (opened.pre !== wantError) problems.push(`the opened text is not the whole traceback: ${JSON.stringify(opened.pre?.slice(0, 200))}`);
    if (opened.preWhiteSpace !== 'pre-wrap') problems.push(`white-space ${opened.preWhiteSpace}, want pre-wrap`);
    if (opened.preOverflow > 0 || !opened.preInside) problems.push(`the traceback overflows its cell (${opened.preOverflow}px, inside ${opened.preInside})`);
    if (blownUp(opened)) problems.push(`opened, the bolts table is ${opened.tableWidth}px wide, its section ${opened.room}px, the error's cell ${opened.tdWidth}px`);
    if (problems.length > 0) throw new Error(`bolt "${errorBolt}"'s opened error: ${problems.join('; ')}`);
    await page.locator(`[data-testid="${testid}"]`).screenshot({ path: shot('topology-error') });
    await waitPolls(1); // the polls rebuild the table: an opened error stays open
    if (!(await cell())?.open) throw new Error(`bolt "${errorBolt}"'s opened error closed at the next poll`);
    await page.click(`[data-testid="${testid}"] summary`); // closed again, for the polls to come
    log(`bolt "${errorBolt}"'s error: "${closed.head.slice(0, 40)}…" on ${closed.node} at ${closed.time}; opened, ${lines.length} lines wrapped in a ${Math.round(opened.tdWidth)}px cell, the table within its ${opened.room}px`);
  };

  // checkComponentPage checks a component page's tasks (a node's name,
  // its address in the title) and, for errorBolt, its errors (a date, the
  // node's name).
  const checkComponentPage = async (component) => {
    const tasks = await waitFor(`the component page's tasks of "${component}"`, async (seen) => {
      const rows = await page.$$eval('[data-testid^="executor-node-"]', (els) => els.map((el) => ({ text: el.textContent, title: el.title })));
      seen(`${JSON.stringify(rows)}, api error: ${await read('api-error')}`);
      return rows.length > 0 ? rows : undefined;
    });
    if (nodeName && tasks.some((r) => r.text !== nodeName || !/:\d+$/.test(r.title))) {
      throw new Error(`"${component}"'s tasks show their node as ${JSON.stringify(tasks)}, want "${nodeName}" with host:port in the title`);
    }
    if (component !== errorBolt) return;
    const errs = await waitFor(`"${component}"'s errors`, async (seen) => {
      const rows = await page.$$eval('[data-testid^="error-row-"]', (els) => els.map((el) => ({
        time: el.querySelector('time')?.textContent, title: el.querySelector('time')?.getAttribute('title'),
        node: el.querySelector('[data-testid^="error-node-"]')?.textContent,
        details: el.querySelector('[data-testid^="error-text-"]')?.tagName,
      })));
      seen(JSON.stringify(rows));
      return rows.length > 0 ? rows : undefined;
    });
    if (errs.some((e) => !dateRe.test(e.time ?? '') || !/^\d+$/.test(e.title ?? '') || (nodeName && e.node !== nodeName) || e.details !== 'DETAILS')) {
      throw new Error(`"${component}"'s errors show ${JSON.stringify(errs)}, want a date (epoch ms in its title), node "${nodeName}", the traceback in a <details>`);
    }
    log(`component "${component}": ${errs.length} errors at ${errs.map((e) => e.time).join(', ')} on ${errs[0].node}`);
  };

  const url = `${base}/topology.html?id=${encodeURIComponent(topology)}`;
  mkdirSync(shots, { recursive: true });
  if (token) {
    // Not signed in: the node's sign-in form, not the page.
    log(`open ${url} without a session`);
    await page.goto(url);
    if (pathOf() !== '/login') throw new Error(`without a session ${url} led to ${page.url()}, want /login`);
    await page.screenshot({ path: shot('login') });
    await page.fill('#token', `${token}-wrong`);
    await page.click('button[type="submit"]');
    const refused = await waitFor('the form to say the node refused a wrong token', async (seen) => {
      const said = await page.$eval('[role="alert"]', (el) => el.textContent).catch(() => null);
      seen(`at ${page.url()}: "${said}"`);
      return said?.includes('refused') ? said : undefined;
    });
    if (pathOf() !== '/login') throw new Error(`a wrong token led to ${page.url()}, want the form again`);
    log(`sign-in form: a wrong token is refused ("${refused.trim()}")`);
    await page.fill('#token', token);
    await Promise.all([page.waitForURL(`${base}/`), page.click('button[type="submit"]')]);
    log(`signed in with the form: at ${pathOf()}`);
    await checkFrame('the cluster page');
    if ((await page.context().cookies()).some((c) => !c.httpOnly || c.sameSite !== 'Strict')) {
      throw new Error(`a cookie is not HttpOnly and SameSite=Strict: ${JSON.stringify(await page.context().cookies())}`);
    }
  }

  log(`open ${url}`);
  await page.goto(url);
  if (pathOf() !== new URL(url).pathname + new URL(url).search) throw new Error(`opening ${url} led to ${page.url()}`);
  await waitFor('status ACTIVE', async (seen) => {
    const s = await status();
    seen(`${s}, api error: ${await read('api-error')}`);
    return s === 'ACTIVE' ? s : undefined;
  });
  await checkFrame('the topology page');
  if (wantCommands) {
    // What the topology executes, component by component, exactly.
    await waitFor(`the commands ${JSON.stringify(wantCommands)} in "Runs commands"`, async (seen) => {
      const shown = await page.$$eval('[data-testid^="command-"][data-argv]', (els) =>
        Object.fromEntries(els.map((el) => [el.dataset.testid.slice('command-'.length), { argv: JSON.parse(el.dataset.argv), text: el.textContent, visible: el.checkVisibility() }])));
      seen(JSON.stringify(shown));
      const ids = Object.keys(wantCommands);
      const ok = Object.keys(shown).length === ids.length && ids.every((c) => shown[c]?.visible &&
        JSON.stringify(shown[c].argv) === JSON.stringify(wantCommands[c]) && wantCommands[c].every((a) => shown[c].text.includes(a)));
      return ok ? shown : undefined;
    });
    log(`"Runs commands" shows ${Object.keys(wantCommands).map((c) => `${c}: ${'`'}${wantCommands[c].join(' ')}${'`'}`).join(', ')}`);
  }
  await countsGrow('active');
  await checkSubmitted();
  // A component that keeps restarting is marked failing, beside the status.
  await waitFor('the failing badge of flaky', async (seen) => {
    const got = await page.evaluate(() => ({
      row: document.querySelector('[data-testid="bolt-failing-flaky"]')?.textContent ?? null,
      top: document.querySelector('[data-testid="topology-failing"]')?.textContent ?? null,
    }));
    seen(JSON.stringify(got));
    return (got.row === 'failing' && got.top?.includes('flaky')) || undefined;
  });
  // The topology's processing guarantee (squall.guarantee) is on its page.
  await waitFor('the guarantee in the topology summary', async (seen) => {
    const got = await page.evaluate(() => document.querySelector('[data-testid="topology-guarantee"]')?.textContent ?? null);
    seen(String(got));
    return got === 'at-least-once' || undefined;
  });
  // Checkpoints are exactly-once's: an at-least-once topology shows none.
  const checkpoints = await page.evaluate(() => document.querySelector('[data-testid="checkpoints"]')?.checkVisibility() ?? null);
  if (checkpoints !== false) throw new Error(`the Checkpoints section of an at-least-once topology: visible ${checkpoints}, want hidden`);
  await checkLatencies();
  await checkErrors();

  // The graph: a box per component and, after two polls, a rate on the edge
  // out of the spout.
  await waitFor(`the graph's box for "${spout}"`, async () => (await read(`graph-node-${spout}`)) !== null || undefined);
  await waitFor(`a rate on the edge out of "${spout}"`, async (seen) => {
    const rates = await page.$$eval(`[data-testid^="graph-edge-${spout}-"]`, (els) => els.map((el) => el.dataset.rate));
    seen(JSON.stringify(rates));
    return rates.some((r) => Number(r) > 0) ? rates : undefined;
  });
  await page.screenshot({ path: shot('topology'), fullPage: true });

  await press('deactivate', 'INACTIVE');
  // Stopped: the same count over three successive polls.
  let stable = 0;
  let previous = await emitted();
  await waitFor(`spout "${spout}"'s emitted count to stop growing`, async (seen) => {
    await waitPolls(1);
    const now = await emitted();
    stable = now === previous ? stable + 1 : 0;
    seen(`${previous} -> ${now}`);
    previous = now;
    return stable >= 3 ? now : undefined;
  }, 40_000);
  log(`spout "${spout}" stopped at ${previous} emitted`);
  await page.screenshot({ path: shot('topology-inactive'), fullPage: true });

  await press('activate', 'ACTIVE');
  await countsGrow('activated again');

  // Rebalance the bolt to its maximum parallelism (the test topology's
  // NumTasks; $SQUALL_UI_REBALANCE, default 4): its executors follow and
  // the counts go on growing.
  const target = process.env.SQUALL_UI_REBALANCE || '4';
  await page.selectOption(byTestId('rebalance-component'), bolt);
  await page.fill(byTestId('rebalance-parallelism'), target);
  await page.click(byTestId('rebalance'));
  await waitFor(`the rebalance of "${bolt}" to ${target} to be answered`, async (seen) => {
    const result = await read('action-result');
    seen(result);
    if (result.startsWith('rebalance failed')) throw new Error(result);
    return result === 'rebalance: success' || undefined;
  });
  await waitFor(`bolt "${bolt}" to show ${target} executors`, async (seen) => {
    const n = await read(`bolt-executors-${bolt}`, 'data-value');
    seen(n);
    return n === target || undefined;
  });
  log(`rebalanced bolt "${bolt}" to ${target} executors`);
  await countsGrow('rebalanced');
  await page.screenshot({ path: shot('topology-rebalanced'), fullPage: true });

  // The other pages render what the node runs.
  await page.goto(`${base}/component.html?topology=${encodeURIComponent(topology)}&component=${encodeURIComponent(spout)}`);
  await checkComponentPage(spout);
  await checkFrame('the component page');
  await page.screenshot({ path: shot('component'), fullPage: true });
  if (errorBolt) {
    await page.goto(`${base}/component.html?topology=${encodeURIComponent(topology)}&component=${encodeURIComponent(errorBolt)}`);
    await checkComponentPage(errorBolt);
    await page.screenshot({ path: shot('component-errors'), fullPage: true });
  }
  await page.goto(`${base}/`);
  await waitFor(`the cluster page's row for "${topology}"`, async (seen) => {
    seen(`api error: ${await read('api-error')}`);
    return (await read(`topology-row-${topology}`)) !== null || undefined;
  });
  await checkFrame('the cluster page');
  await page.screenshot({ path: shot('cluster'), fullPage: true });

  if (token) {
    // Sign out: back to the form, and the cookie no longer opens the API.
    await Promise.all([page.waitForURL('**/login'), page.click(byTestId('sign-out'))]);
    log(`signed out: at ${pathOf()}`);
    // (From the browser context's own cookies: the sign-in page's CSP
    // forbids the page itself to fetch.)
    const answer = (await page.request.get(`${base}/api/v1/topology/summary`)).status();
    if (answer !== 401) throw new Error(`after signing out the API answered ${answer}, want 401`);
    await page.goto(url);
    if (pathOf() !== '/login') throw new Error(`after signing out ${url} led to ${page.url()}, want /login`);
    // Jupyter's way: the token in the URL signs in and leaves the URL.
    await page.goto(`${url}&token=${encodeURIComponent(token)}`);
    const landed = pathOf();
    if (landed !== new URL(url).pathname + new URL(url).search) throw new Error(`?token= led to ${page.url()}, want ${url} without the token`);
    log(`signed in again with ?token=: at ${landed}`);
    // A session that ends under an open page (expired, signed out
    // elsewhere): the page's next poll gets 401 and opens the form.
    await waitFor('status ACTIVE signed in again', async () => (await status()) === 'ACTIVE' || undefined);
    await page.context().clearCookies();
    await waitFor('the page to open the sign-in form after the API answered 401', async (seen) => {
      seen(page.url());
      return new URL(page.url()).pathname === '/login' || undefined;
    });
    log('the session ended under the page: its next poll opened /login');
    await page.goto(`${url}&token=${encodeURIComponent(token)}`);
    if (pathOf() !== landed) throw new Error(`?token= led to ${page.url()}, want ${landed}`);
  } else {
    await page.goto(url);
  }

  // Kill, confirmed in the browser's dialog, with a 1 s wait: the
  // topology leaves the cluster page.
  await waitFor('status ACTIVE again', async () => (await status()) === 'ACTIVE' || undefined);
  await page.fill(byTestId('wait'), '1');
  page.once('dialog', (dialog) => dialog.accept());
  await page.click(byTestId('kill'));
  await waitFor('the kill to be answered', async (seen) => {
    const result = await read('action-result');
    seen(result);
    if (result.startsWith('kill failed')) throw new Error(result);
    return result === 'kill: success' || undefined;
  });
  log('pressed kill: success');
  await page.goto(`${base}/`);
  await waitFor(`"${topology}" to leave the cluster page`, async (seen) => {
    const row = await read(`topology-row-${topology}`);
    seen(row === null ? 'no row' : row);
    return (await polls()) > 0 && row === null ? true : undefined;
  });
  log(`"${topology}" is gone from the cluster page`);
}

const profile = mkdtempSync(join(tmpdir(), 'squall-ui-chromium-'));
let context;
let failed = false;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath, headless: true, args, viewport: { width: 1400, height: 1000 },
  });
  const page = context.pages()[0] ?? await context.newPage();
  // The UI must work offline: any request off the node is a failure.
  const foreign = [];
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (new URL(u).origin === origin) return route.continue();
    foreign.push(u);
    return route.abort();
  });
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  // Every POST of the UI's API goes with the session's CSRF token (none
  // on an open node) and never with an Authorization header.
  const badPosts = [];
  let posts = 0;
  page.on('request', (req) => {
    if (req.method() !== 'POST' || !new URL(req.url()).pathname.startsWith('/api/')) return;
    posts++;
    const h = req.headers();
    if (h.authorization !== undefined) badPosts.push(`${req.url()}: an Authorization header`);
    if (token && !h['x-csrf-token']) badPosts.push(`${req.url()}: no X-CSRF-Token`);
  });
  try {
    await main(page);
  } catch (err) {
    await page.screenshot({ path: shot('failure'), fullPage: true }).catch(() => {});
    throw err;
  }
  if (foreign.length > 0) throw new Error(`the UI fetched from outside the node: ${foreign.join(', ')}`);
  if (pageErrors.length > 0) throw new Error(`uncaught errors in the page: ${pageErrors.join('; ')}`);
  if (badPosts.length > 0) throw new Error(`POSTs without the session's credentials: ${badPosts.join('; ')}`);
  if (posts < 4) throw new Error(`saw ${posts} POSTs of the API, want deactivate, activate, rebalance and kill`);
  log(`${posts} POSTs of the API, each ${token ? 'with the session cookie and its X-CSRF-Token' : 'on an open node'}, none with Authorization`);
  log(`PASS: screenshots in ${shots}`);
} catch (err) {
  failed = true;
  console.error(`FAIL: ${err.message}`);
  if (/Failed to launch|executable doesn't exist|ENOENT/i.test(err.message)) {
    console.error(`Chromium at ${executablePath} did not start: run scripts/uideps.sh (apt-get install chromium), or set SQUALL_CHROMIUM`);
  }
} finally {
  await context?.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
