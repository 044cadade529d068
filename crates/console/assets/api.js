// The management API as the console uses it: the SDK's own routes with an IAM token.
const SESSION_KEY = 'portico.session';

export function session() {
  try { return JSON.parse(sessionStorage.getItem(SESSION_KEY)); } catch { return null; }
}

export function logout() { sessionStorage.removeItem(SESSION_KEY); }

/** POST /v3/auth/tokens with the password method; keeps the token for this tab only. */
export async function login(user, password) {
  const body = { auth: { identity: { methods: ['password'], password: { user: { name: user, password } } } } };
  const response = await fetch('/v3/auth/tokens', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error?.message || `Login failed (${response.status})`);
  const token = response.headers.get('X-Subject-Token');
  const saved = { token, project_id: answer.token.project.id, user: answer.token.user.name,
    expires_at: answer.token.expires_at };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(saved));
  return saved;
}

export class ApiError extends Error {
  constructor(status, code, message) { super(`${code ? code + ': ' : ''}${message}`); this.status = status; this.code = code; }
}

/** A request to the management API; `path` is absolute or relative to the instance. */
export async function call(method, path, { body, query, raw, form } = {}) {
  const s = session();
  if (!s) throw new ApiError(401, '', 'Not logged in');
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== '') url.searchParams.set(k, v);
  const headers = { 'X-Auth-Token': s.token };
  let payload;
  if (form) payload = form;
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  const response = await fetch(url, { method, headers, body: payload });
  if (response.status === 401) { logout(); location.hash = '#/login'; }
  if (!response.ok) {
    const err = await response.json().catch(() => ({}));
    throw new ApiError(response.status, err.error_code, err.error_msg || response.statusText);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

/** The path of an instance's routes. */
export function inst(instanceId, rel = '') {
  return `/v2/${session().project_id}/apigw/instances/${encodeURIComponent(instanceId)}${rel}`;
}

/** Every item of a list, page by page (the lists the console shows are small). */
export async function all(path, key, query = {}) {
  const items = [];
  for (;;) {
    const page = await call('GET', path, { query: { ...query, offset: items.length, limit: 500 } });
    const got = page[key] || [];
    items.push(...got);
    if (got.length < 500 || items.length >= page.total) return items;
  }
}
