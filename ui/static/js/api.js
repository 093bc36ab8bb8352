// The node's Storm-style REST API (/api/v1/...), as the pages use it: GETs
// for the polls and POSTs for the topology actions.
//
// How the pages are signed in: the node's Guard (internal/httpauth) does
// it, never this code. Its sign-in form (/login) or opening any page as
// ?token=TOKEN trades the admin token for a session cookie (HttpOnly,
// SameSite=Strict), the one credential the browser holds: no page reads,
// asks for or stores the token. The browser sends the cookie on
// every request; a POST also carries the session's CSRF token in the
// X-CSRF-Token header, learnt once from GET /api/v1/session (and learnt
// again if the node refuses it, e.g. after a sign-in in another tab). Any
// API answer 401 (no session, or it expired) sends the browser to /login,
// which signs in and returns to the cluster page. A node run with
// --insecure and no admin token asks for nothing (the session says "open").

const sessionPath = '/api/v1/session';
export const loginPath = '/login';
const logoutPath = '/logout';
const csrfHeader = 'X-CSRF-Token';

// ApiError is a non-2xx answer; message is the node's {error} when it sent one.
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// toLogin leaves the page for the sign-in form and rejects, so the caller
// stops where it is (its poll shows why until the browser has left).
function toLogin() {
  window.location.assign(loginPath);
  throw new ApiError(401, 'not signed in (or the session expired): opening the sign-in page');
}

async function decode(resp) {
  if (resp.status === 401) toLogin();
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new ApiError(resp.status, body.error || `${resp.status} ${resp.statusText}`);
  return body;
}

// get fetches a JSON document; path starts with /api/v1/.
export async function get(path) {
  return decode(await fetch(path, { headers: { Accept: 'application/json' } }));
}

let current = null; // the promise of GET /api/v1/session, once

// session resolves with who the page is signed in as: {user, via} (via is
// "cookie", "certificate" or "open") and, for a cookie, csrf_token. It is
// fetched once per page; a failed fetch is retried by the next call.
export function session() {
  current ??= get(sessionPath).catch((err) => {
    current = null;
    throw err;
  });
  return current;
}

function csrfHeaders(s) {
  return s?.csrf_token ? { [csrfHeader]: s.csrf_token } : {};
}

// post sends body as JSON with the session's CSRF token. A 403 is tried
// once more with a freshly fetched session (its CSRF token may have
// changed); a 401 opens the sign-in page.
async function post(path, body = {}) {
  for (let attempt = 0; ; attempt++) {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json', ...csrfHeaders(await session()) };
    const resp = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
    if (resp.status === 403 && attempt === 0) {
      current = null;
      continue;
    }
    return decode(resp);
  }
}

// signOut ends the session (POST /logout clears the cookie) and opens the
// sign-in page.
export async function signOut() {
  const s = await session().catch(() => null);
  await fetch(logoutPath, { method: 'POST', headers: csrfHeaders(s), redirect: 'manual' }).catch(() => {});
  current = null;
  window.location.assign(loginPath);
}

// Topology actions (Storm UI's routes). wait is in seconds.
export const actions = {
  activate: (id) => post(`/api/v1/topology/${encodeURIComponent(id)}/activate`),
  deactivate: (id) => post(`/api/v1/topology/${encodeURIComponent(id)}/deactivate`),
  kill: (id, wait = 30) => post(`/api/v1/topology/${encodeURIComponent(id)}/kill/${wait}`),
  rebalance: (id, executors, wait = 30) =>
    post(`/api/v1/topology/${encodeURIComponent(id)}/rebalance/${wait}`, { rebalanceOptions: { executors } }),
};
