import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, ApiError } from '../api.js';
import { session } from '../session.js';
import { watch } from '../watch.js';
import { Field, ErrorBanner, errorAt, Loading } from '../ui.jsx';

// Zones the token sees, kept current from the watch stream.
export function Zones() {
  const caps = session.value.caps;
  const [zones, setZones] = useState(null);
  const [error, setError] = useState(null);
  // Bumped when the watch is gone (410): the zones are listed again.
  const [listing, setListing] = useState(0);
  useEffect(() => {
    let stop = () => {};
    let live = true;
    api('GET', '/v1/zones').then((list) => {
      if (!live) return;
      const map = new Map(list.items.map((z) => [z.name, z]));
      setZones(new Map(map));
      stop = watch({
        since: list.revision,
        kind: 'Zone',
        onGone: () => live && setListing((n) => n + 1),
        onChange: (c) => {
          if (c.kind !== 'Zone') return;
          if (c.after) map.set(c.name, c.after);
          else map.delete(c.name);
          setZones(new Map(map));
        },
      });
    }, setError);
    return () => {
      live = false;
      stop();
    };
  }, [listing]);
  return (
    <section>
      <div class="title-row">
        <h1>Zones</h1>
        {caps.createZones && (
          <a class="button" href="/zones/new">
            New zone
          </a>
        )}
      </div>
      <Loading state={{ data: zones, error }}>
        {(z) =>
          z.size === 0 ? (
            <p>No zones yet.</p>
          ) : (
            <table class="list">
              <thead>
                <tr>
                  <th scope="col">Zone</th>
                  <th scope="col">Description</th>
                  <th scope="col">Version</th>
                </tr>
              </thead>
              <tbody>
                {[...z.values()]
                  .sort((a, b) => a.name.localeCompare(b.name))
                  .map((zone) => (
                    <tr key={zone.name}>
                      <td>
                        <a href={`/zones/${encodeURIComponent(zone.name)}`}>{zone.name}</a>
                      </td>
                      <td>{zone.description}</td>
                      <td>{zone.version}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          )
        }
      </Loading>
    </section>
  );
}

// The seed's example, offered when a zone is created (what `causeway
// init-zone` builds from its flags).
const EXAMPLE = {
  proxy: 'dev-proxy',
  domain: 'demo.turbinelabs.io:8888',
  path: '/api',
  cluster: 'envoy-simple',
  instance: '127.0.0.1:8080',
  group: 'default',
};

function routeName(domain, path) {
  return (domain + path)
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/[-.]+$/, '')
    .slice(0, 253);
}

export function exampleDocuments(zone, ex) {
  const [host, port] = ex.instance.split(/:(?=\d+$)/);
  const instances = ex.instance ? [{ host, port: Number(port) }] : [];
  return [
    { kind: 'Zone', name: zone.name, description: zone.description },
    { kind: 'Cluster', zone: zone.name, name: ex.cluster, instances },
    { kind: 'Domain', zone: zone.name, name: ex.domain },
    { kind: 'RouteGroup', zone: zone.name, name: ex.group, default: [{ cluster: ex.cluster }] },
    {
      kind: 'Route',
      zone: zone.name,
      name: routeName(ex.domain, ex.path),
      domain: ex.domain,
      path: ex.path,
      route_group: ex.group,
    },
    { kind: 'Proxy', zone: zone.name, name: ex.proxy, domains: [ex.domain] },
  ];
}

export function ZoneCreate() {
  const loc = useLocation();
  const [zone, setZone] = useState({ name: '', description: '' });
  const [withExample, setWithExample] = useState(false);
  const [ex, setEx] = useState(EXAMPLE);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const exFields = [
    ['proxy', 'Proxy'],
    ['domain', 'Domain (host:port)'],
    ['path', 'Route path (prefix)'],
    ['cluster', 'Cluster'],
    ['instance', 'Cluster instance (host:port)'],
    ['group', 'Route group'],
  ];
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (withExample) {
        await api('POST', '/v1/apply?op=create', { items: exampleDocuments(zone, ex) });
      } else {
        await api('POST', '/v1/zones', zone);
      }
      loc.route(`/zones/${encodeURIComponent(zone.name)}`);
    } catch (err) {
      // A document's error (items[0].name) belongs to the zone's fields.
      if (err instanceof ApiError && /^items\[0\]\./.test(err.field)) {
        err.field = err.field.replace(/^items\[0\]\./, '');
      }
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  const set = (k) => (e) => setZone({ ...zone, [k]: e.currentTarget.value });
  return (
    <section>
      <h1>New zone</h1>
      <form onSubmit={submit} class="form">
        <ErrorBanner error={error} fields={['name', 'description']} />
        <Field id="name" label="Name" error={errorAt(error, 'name')}
          help="Lowercase letters, digits, '.' and '-', e.g. dev-local">
          <input id="name" value={zone.name} onInput={set('name')} required />
        </Field>
        <Field id="description" label="Description" error={errorAt(error, 'description')}>
          <input id="description" value={zone.description} onInput={set('description')} />
        </Field>
        <div class="field">
          <label>
            <input type="checkbox" checked={withExample}
              onChange={(e) => setWithExample(e.currentTarget.checked)} /> Also create the example
            objects (a proxy, a domain, a route to a cluster), as <code>causeway init-zone</code> does
          </label>
        </div>
        {withExample && (
          <fieldset>
            <legend>Example objects</legend>
            {exFields.map(([k, label]) => (
              <Field key={k} id={`ex-${k}`} label={label}>
                <input id={`ex-${k}`} value={ex[k]}
                  onInput={(e) => setEx({ ...ex, [k]: e.currentTarget.value })} />
              </Field>
            ))}
          </fieldset>
        )}
        <div class="actions">
          <button type="submit" disabled={busy}>Create zone</button>
          <a href="/zones">Cancel</a>
        </div>
      </form>
    </section>
  );
}
