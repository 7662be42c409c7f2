// The REST API as the console uses it: every call carries the session's
// token in the Authorization header (never a cookie, so a cross-site page
// cannot make the browser act with it) and errors become ApiError with the
// server's {code, message, field} and, for conflicts, the current object.
import { token, onUnauthenticated } from './session.js';

export class ApiError extends Error {
  constructor(status, body, text) {
    const e = (body && body.error) || {};
    super(e.message || text || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || '';
    this.field = e.field || '';
    this.current = body && body.current;
    this.referrers = (body && body.referrers) || [];
  }
}

export async function api(method, path, body, extraHeaders = {}) {
  const headers = { Authorization: `Bearer ${token()}`, ...extraHeaders };
  const init = { method, headers, credentials: 'omit', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401) onUnauthenticated();
    throw new ApiError(res.status, data, text);
  }
  return data;
}

// Kinds as the REST API names them: the JSON/YAML `kind` and the path segment.
export const KINDS = [
  { kind: 'Proxy', path: 'proxies', title: 'Proxies', one: 'proxy' },
  { kind: 'Domain', path: 'domains', title: 'Domains', one: 'domain' },
  { kind: 'Route', path: 'routes', title: 'Routes', one: 'route' },
  { kind: 'RouteGroup', path: 'route-groups', title: 'Route groups', one: 'route group' },
  { kind: 'Cluster', path: 'clusters', title: 'Clusters', one: 'cluster' },
];
export const kindByPath = (p) => KINDS.find((k) => k.path === p);
export const kindByName = (n) => KINDS.find((k) => k.kind === n);

export const enc = encodeURIComponent;
export const zonePath = (zone) => `/v1/zones/${enc(zone)}`;
export const objectPath = (zone, kindPath, name) =>
  `/v1/zones/${enc(zone)}/${kindPath}/${enc(name)}`;

// The fields a user edits: what the server manages is left out.
export function specOf(obj) {
  const { version, created_at, updated_at, zone, kind, ...spec } = obj || {};
  return spec;
}
