// Route explain: which listener, domain, route, rule, cluster and
// instances a request would take on a proxy, from the hub's own translation
// and the proxy's router (POST .../proxies/{proxy}/explain). The request is
// given as fields or as a pasted curl command; the fields stay in the URL.
import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, objectPath, enc } from '../api.js';
import { useZoneObjects } from '../zoneData.js';
import { Field, ErrorBanner, errorAt } from '../ui.jsx';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

function pairs(text, sep) {
  const out = {};
  for (const line of (text || '').split('\n')) {
    const at = line.indexOf(sep);
    if (at <= 0) continue;
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

function Answer({ zone, a }) {
  const link = (path, name) => name && <a href={`/zones/${enc(zone)}/${path}/${enc(name)}`}>{name}</a>;
  return (
    <section aria-labelledby="answer" class="notice explain-answer">
      <h2 id="answer">This request would go to</h2>
      <dl class="answer">
        <dt>Listener</dt>
        <dd data-k="listener">{a.listener}</dd>
        <dt>Domain</dt>
        <dd data-k="domain">{link('domains', a.domain)}</dd>
        <dt>Virtual host</dt>
        <dd data-k="virtual_host">{a.virtual_host}</dd>
        <dt>Route</dt>
        <dd data-k="route">{link('routes', a.route)}</dd>
        <dt>Route group</dt>
        <dd data-k="route_group">{link('route-groups', a.route_group)}</dd>
        <dt>Rule</dt>
        <dd data-k="rule">{a.rule === null || a.rule === undefined ? `default targets` : `${a.rule} (of the ${a.rule_of === 'route' ? 'route' : 'route group'})`}</dd>
        <dt>Cluster</dt>
        <dd data-k="cluster">
          {a.cluster
            ? link('clusters', a.cluster)
            : (a.clusters || []).map((c) => (
                <span class="chip" key={c.name}>
                  {link('clusters', c.name)} weight {c.weight}
                </span>
              ))}
        </dd>
        <dt>Instances</dt>
        <dd data-k="instances">
          {(a.instances || []).length === 0
            ? 'none'
            : a.instances.map((i) => (
                <span class="chip" key={`${i.cluster || ''}${i.host}:${i.port}`}>
                  {i.cluster ? `${i.cluster}: ` : ''}
                  {i.host}:{i.port}
                </span>
              ))}
        </dd>
      </dl>
      <p data-k="reason">{a.reason}</p>
    </section>
  );
}

export function Explain({ zone }) {
  const loc = useLocation();
  const q = loc.query;
  const data = useZoneObjects(zone);
  const [mode, setMode] = useState(q.curl ? 'curl' : 'fields');
  const [form, setForm] = useState({
    proxy: q.proxy || '',
    host: q.host || '',
    path: q.path || '/',
    method: q.method || 'GET',
    headers: q.headers || '',
    cookies: q.cookies || '',
    curl: q.curl || '',
  });
  const [answer, setAnswer] = useState(null);
  const [error, setError] = useState(null);
  const proxies = data.objects ? [...data.objects.Proxy.keys()].sort() : [];
  useEffect(() => {
    if (!form.proxy && proxies.length) setForm((f) => ({ ...f, proxy: proxies[0] }));
  }, [proxies.join()]);
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  async function submit(e) {
    e.preventDefault();
    setError(null);
    setAnswer(null);
    const body =
      mode === 'curl'
        ? { curl: form.curl }
        : {
            host: form.host,
            path: form.path,
            method: form.method,
            headers: pairs(form.headers, ':'),
            cookies: pairs(form.cookies, '='),
          };
    // The inputs go into the URL so the question can be shared.
    const p = new URLSearchParams();
    p.set('proxy', form.proxy);
    if (mode === 'curl') p.set('curl', form.curl);
    else for (const k of ['host', 'path', 'method', 'headers', 'cookies']) if (form[k]) p.set(k, form[k]);
    history.replaceState(null, '', `${loc.path}?${p}`);
    try {
      setAnswer(await api('POST', `${objectPath(zone, 'proxies', form.proxy)}/explain`, body));
    } catch (err) {
      setError(err);
    }
  }
  return (
    <section>
      <nav aria-label="Breadcrumbs" class="help">
        <a href="/zones">Zones</a> / <a href={`/zones/${enc(zone)}`}>{zone}</a> / Explain
      </nav>
      <h1>Explain a request in {zone}</h1>
      <form class="form" onSubmit={submit} noValidate>
        <ErrorBanner error={error} fields={['host', 'path', 'method', 'headers', 'cookies', 'curl']} />
        <Field id="x-proxy" label="Proxy" error={errorAt(error, 'proxy')}>
          <select id="x-proxy" value={form.proxy} onChange={set('proxy')}>
            {proxies.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </Field>
        <fieldset>
          <legend>Request given as</legend>
          <label>
            <input type="radio" name="mode" checked={mode === 'fields'} onChange={() => setMode('fields')} /> fields
          </label>
          <label>
            <input type="radio" name="mode" checked={mode === 'curl'} onChange={() => setMode('curl')} /> a curl command
          </label>
        </fieldset>
        {mode === 'curl' ? (
          <Field id="x-curl" label="curl command" error={errorAt(error, 'curl')}
            help="e.g. curl -H 'x-version: 2' -b 'beta=1' http://demo.turbinelabs.io:8888/api">
            <textarea id="x-curl" class="code short" value={form.curl} onInput={set('curl')} />
          </Field>
        ) : (
          <>
            <Field id="x-host" label="Host" error={errorAt(error, 'host')} help="host or host:port, e.g. demo.turbinelabs.io:8888">
              <input id="x-host" value={form.host} onInput={set('host')} />
            </Field>
            <Field id="x-path" label="Path" error={errorAt(error, 'path')}>
              <input id="x-path" value={form.path} onInput={set('path')} />
            </Field>
            <Field id="x-method" label="Method" error={errorAt(error, 'method')}>
              <select id="x-method" value={form.method} onChange={set('method')}>
                {METHODS.map((m) => (
                  <option key={m}>{m}</option>
                ))}
              </select>
            </Field>
            <Field id="x-headers" label="Headers" error={errorAt(error, 'headers')} help="One per line: name: value">
              <textarea id="x-headers" class="code short" value={form.headers} onInput={set('headers')} />
            </Field>
            <Field id="x-cookies" label="Cookies" error={errorAt(error, 'cookies')} help="One per line: name=value">
              <textarea id="x-cookies" class="code short" value={form.cookies} onInput={set('cookies')} />
            </Field>
          </>
        )}
        <div class="actions">
          <button type="submit" disabled={!form.proxy}>
            Explain
          </button>
        </div>
      </form>
      {answer && <Answer zone={zone} a={answer} />}
    </section>
  );
}
