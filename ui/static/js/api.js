// The node's Storm-style REST API (/api/v1/...), as the pages use it: GETs
// for the polls and POSTs for the topology actions. A POST the node refuses
// with 401 or 403 asks for the admin token, keeps it in sessionStorage (for
// this tab only) and retries with "Authorization: Bearer <token>".

import { h } from './dom.js';

const tokenKey = 'squall.adminToken';

// ApiError is a non-2xx answer; message is the node's {error} when it sent one.
class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function decode(resp) {
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new ApiError(resp.status, body.error || `${resp.status} ${resp.statusText}`);
  return body;
}

// get fetches a JSON document; path starts with /api/v1/.
export async function get(path) {
  return decode(await fetch(path, { headers: { Accept: 'application/json' } }));
}

// post sends body as JSON, asking for the admin token while the node
// answers 401 or 403. It rejects with the node's error, or with "cancelled"
// when the user closes the token prompt.
async function post(path, body = {}) {
  let rejected = false;
  for (;;) {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    const token = sessionStorage.getItem(tokenKey);
    if (token) headers.Authorization = `Bearer ${token}`;
    const resp = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
    if (resp.status !== 401 && resp.status !== 403) return decode(resp);
    const fresh = await askToken(rejected || Boolean(token));
    if (fresh === null) throw new ApiError(resp.status, 'cancelled: the node needs its admin token');
    sessionStorage.setItem(tokenKey, fresh);
    rejected = true;
  }
}

// askToken shows a modal prompt and resolves with the token typed, or null
// when it is cancelled.
function askToken(wasRejected) {
  const input = h('input', { id: 'token-input', type: 'password', autocomplete: 'off', required: true, dataset: { testid: 'token-input' } });
  const dialog = h('dialog', { id: 'token-dialog', dataset: { testid: 'token-dialog' } },
    h('form', { method: 'dialog' },
      h('h2', { text: 'Admin token' }),
      h('p', { text: wasRejected ? 'The node refused that token. Enter its admin token:' : 'This node needs its admin token (--admin-token) for this action:' }),
      input,
      h('menu', {},
        h('button', { value: 'cancel', formnovalidate: true, text: 'Cancel', dataset: { testid: 'token-cancel' } }),
        h('button', { value: 'ok', class: 'primary', text: 'Send', dataset: { testid: 'token-submit' } }))));
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'ok' && input.value !== '' ? input.value : null);
    });
    dialog.showModal();
  });
}

// Topology actions (Storm UI's routes). wait is in seconds.
export const actions = {
  activate: (id) => post(`/api/v1/topology/${encodeURIComponent(id)}/activate`),
  deactivate: (id) => post(`/api/v1/topology/${encodeURIComponent(id)}/deactivate`),
  kill: (id, wait = 30) => post(`/api/v1/topology/${encodeURIComponent(id)}/kill/${wait}`),
  rebalance: (id, executors, wait = 30) =>
    post(`/api/v1/topology/${encodeURIComponent(id)}/rebalance/${wait}`, { rebalanceOptions: { executors } }),
};
