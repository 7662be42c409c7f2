// A zone: its proxies with live xDS state, domains, routes, route groups and
// clusters with their instances, all current from the watch stream.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, KINDS, enc } from '../api.js';
import { session } from '../session.js';
import { useZoneObjects, useZoneStatus, proxySummary } from '../zoneData.js';
import { ErrorBanner, toYaml } from '../ui.jsx';
import { specOf } from '../api.js';

const objHref = (zone, path, name) => `/zones/${enc(zone)}/${path}/${enc(name)}`;

function Targets({ zone, targets }) {
  const total = (targets || []).reduce((a, t) => a + (t.weight || 1), 0) || 1;
  return (
    <span class="chips">
      {(targets || []).map((t, i) => (
        <span class="chip" key={i}>
          <a href={objHref(zone, 'clusters', t.cluster)}>{t.cluster}</a>{' '}
          {Math.round(((t.weight || 1) * 100) / total)}%
        </span>
      ))}
    </span>
  );
}

function ProxyState({ summary }) {
  if (!summary.connected) return <span class="warn">no instance connected</span>;
  return (
    <span>
      <span class={summary.inSync ? 'ok' : 'warn'}>
        {summary.connected} connected, {summary.inSync ? 'in sync' : 'not in sync'}
      </span>
      {summary.nacks.map((n) => (
        <span class="bad nack" key={n}>
          {n}
        </span>
      ))}
    </span>
  );
}

const COLUMNS = {
  Proxy: (z, o, status) => [
    (o.domains || []).map((d) => (
      <span class="chip" key={d}>
        <a href={objHref(z, 'domains', d)}>{d}</a>
      </span>
    )),
    <ProxyState summary={proxySummary(status, o.name)} />,
  ],
  Domain: (z, o) => [(o.aliases || []).join(', ')],
  Route: (z, o) => [
    <a href={objHref(z, 'domains', o.domain)}>{o.domain}</a>,
    <code>{o.path}</code>,
    <a href={objHref(z, 'route-groups', o.route_group)}>{o.route_group}</a>,
  ],
  RouteGroup: (z, o) => [<Targets zone={z} targets={o.default} />, (o.rules || []).length],
  // One text node per cluster: a zone of 500 clusters of 20 instances
  // renders 500 nodes here, not 10,000.
  Cluster: (z, o) => [
    <span class="instances">
      {(o.instances || []).map((i) => `${i.host}:${i.port}`).join(', ') || 'none'}
    </span>,
  ],
};
const HEADINGS = {
  Proxy: ['Domains', 'xDS'],
  Domain: ['Aliases'],
  Route: ['Domain', 'Path', 'Route group'],
  RouteGroup: ['Default targets', 'Rules'],
  Cluster: ['Instances'],
};

function KindSection({ zone, k, objects, status, canWrite }) {
  const items = [...objects.values()].sort((a, b) => a.name.localeCompare(b.name));
  const id = `section-${k.path}`;
  return (
    <section aria-labelledby={id} class="kind-section" data-kind={k.kind}>
      <div class="title-row">
        <h2 id={id}>
          {k.title} <span class="live">({items.length})</span>
        </h2>
        {canWrite && (
          <a class="button secondary" href={`/zones/${enc(zone)}/${k.path}/new`}>
            New {k.one}
          </a>
        )}
      </div>
      {items.length === 0 ? (
        <p class="help">None yet.</p>
      ) : (
        <div class="scroll">
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Name</th>
                {HEADINGS[k.kind].map((h) => (
                  <th scope="col" key={h}>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {items.map((o) => (
                <tr key={o.name} data-name={o.name}>
                  <td>
                    <a href={objHref(zone, k.path, o.name)}>{o.name}</a>
                  </td>
                  {COLUMNS[k.kind](zone, o, status).map((c, i) => (
                    <td key={i}>{c}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

// Every object of the zone as documents with `kind`, in the order an apply
// of them would need (what `causeway export-zone` writes).
export function zoneDocuments(zoneObj, objects) {
  const docs = [{ kind: 'Zone', name: zoneObj.name, description: zoneObj.description || undefined }];
  for (const kind of ['Cluster', 'Domain', 'RouteGroup', 'Route', 'Proxy']) {
    for (const o of [...objects[kind].values()].sort((a, b) => a.name.localeCompare(b.name))) {
      docs.push({ kind, zone: zoneObj.name, ...specOf(o) });
    }
  }
  return docs;
}

function ExportYaml({ zoneObj, objects }) {
  const text = zoneDocuments(zoneObj, objects)
    .map((d) => toYaml(JSON.parse(JSON.stringify(d))))
    .join('---\n');
  // One object URL per export text, released when it changes or closes.
  const href = useMemo(() => URL.createObjectURL(new Blob([text], { type: 'application/yaml' })), [text]);
  useEffect(() => () => URL.revokeObjectURL(href), [href]);
  return (
    <div class="notice">
      <p>
        <a href={href} download={`${zoneObj.name}.yaml`}>
          Download {zoneObj.name}.yaml
        </a>{' '}
        — apply it elsewhere with <code>causeway apply -f {zoneObj.name}.yaml</code>.
      </p>
      <label for="export-yaml">YAML of the zone</label>
      <textarea id="export-yaml" class="code" readOnly value={text} />
    </div>
  );
}

function DeleteZone({ zoneObj, objects, onCancel }) {
  const loc = useLocation();
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const docs = zoneDocuments(zoneObj, objects);
  async function remove() {
    setBusy(true);
    try {
      // One request, all or nothing: references are checked against what
      // the whole request leaves, so the order does not matter. Documents
      // are sent whole because the hub reads each as an object.
      await api('POST', '/v1/apply?op=delete', { items: JSON.parse(JSON.stringify(docs)) });
      loc.route('/zones');
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }
  return (
    <div class="notice" role="region" aria-label="Delete the zone">
      <p>
        Deleting zone <strong>{zoneObj.name}</strong> deletes these {docs.length} objects, all at
        once:
      </p>
      <ul class="delete-list">
        {docs.map((d) => (
          <li key={`${d.kind}/${d.name}`}>
            {d.kind} {d.name}
          </li>
        ))}
      </ul>
      <ErrorBanner error={error} />
      <div class="actions">
        <button class="danger" onClick={remove} disabled={busy}>
          Delete zone and {docs.length - 1} objects
        </button>
        <button class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}

export function Zone({ zone }) {
  const caps = session.value.caps;
  const data = useZoneObjects(zone);
  const status = useZoneStatus(zone);
  const [panel, setPanel] = useState('');
  if (data.error) {
    return (
      <section>
        <h1>Zone {zone}</h1>
        <ErrorBanner error={data.error} />
        <a href="/zones">All zones</a>
      </section>
    );
  }
  if (!data.objects) return <p aria-busy="true">Loading zone {zone}…</p>;
  const zoneObj = data.zone || { name: zone };
  const toggle = (p) => setPanel(panel === p ? '' : p);
  return (
    <section>
      <div class="title-row">
        <h1>
          Zone {zone}{' '}
          <span class="live" role="status">
            {data.live === 'live' ? '● live' : data.live}
          </span>
        </h1>
        <div class="tools">
          <a class="button secondary" href={`/zones/${enc(zone)}/explain`}>
            Explain a request
          </a>
          <a class="button secondary" href={`/history?zone=${enc(zone)}`}>
            History
          </a>
          <button class="secondary" aria-expanded={panel === 'export'} onClick={() => toggle('export')}>
            Export YAML
          </button>
          {caps.write && (
            <button class="secondary" aria-expanded={panel === 'delete'} onClick={() => toggle('delete')}>
              Delete zone
            </button>
          )}
        </div>
      </div>
      {zoneObj.description && <p>{zoneObj.description}</p>}
      {panel === 'export' && <ExportYaml zoneObj={zoneObj} objects={data.objects} />}
      {panel === 'delete' && (
        <DeleteZone zoneObj={zoneObj} objects={data.objects} onCancel={() => setPanel('')} />
      )}
      {KINDS.map((k) => (
        <KindSection
          key={k.kind}
          zone={zone}
          k={k}
          objects={data.objects[k.kind]}
          status={status}
          canWrite={caps.write}
        />
      ))}
    </section>
  );
}
