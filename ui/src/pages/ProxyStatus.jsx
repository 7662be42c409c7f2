// A proxy's xDS state: each connected instance with the version sent and
// acknowledged per resource type and its last rejection (NACK) in plain
// words, and the exact resources the hub sends it (the config API).
import { useEffect, useState } from 'preact/hooks';
import { api, objectPath } from '../api.js';
import { useZoneStatus, proxySummary } from '../zoneData.js';
import { when } from '../ui.jsx';

const TYPES = ['cds', 'eds', 'lds', 'rds'];
const TYPE_NAMES = { cds: 'Clusters', eds: 'Endpoints', lds: 'Listeners', rds: 'Routes' };

// What changed in the streams' ACK/NACK state between two polls, newest
// first: the status API keeps the last of each, the page keeps the rest.
function events(prev, next, name) {
  const out = [];
  const before = new Map(((prev && prev.proxies) || []).filter((p) => p.proxy === name).map((p) => [p.node_id, p]));
  for (const s of ((next && next.proxies) || []).filter((p) => p.proxy === name)) {
    for (const t of TYPES) {
      const now = (s.types || {})[t];
      const was = ((before.get(s.node_id) || {}).types || {})[t] || {};
      if (!now) continue;
      if (now.version_acked && now.version_acked !== was.version_acked) {
        out.push({ key: `${s.node_id}/${t}/ack/${now.version_acked}`, ok: true,
          text: `${s.node_id}: ${TYPE_NAMES[t]} version ${now.version_acked} acknowledged`, time: now.last_ack_time });
      }
      const nack = now.last_nack;
      if (nack && (!was.last_nack || was.last_nack.time !== nack.time)) {
        out.push({ key: `${s.node_id}/${t}/nack/${nack.time}`, ok: false,
          text: `${s.node_id}: ${TYPE_NAMES[t]} version ${nack.version} rejected: ${nack.message}`, time: nack.time });
      }
    }
  }
  return out;
}

export function ProxyStatus({ zone, name }) {
  const status = useZoneStatus(zone);
  const [history, setHistory] = useState({ last: null, items: [] });
  useEffect(() => {
    if (!status || status.error) return;
    setHistory((h) => ({ last: status, items: [...events(h.last, status, name), ...h.items].slice(0, 100) }));
  }, [status]);
  const [config, setConfig] = useState(null);
  const revision = status && status.revision;
  useEffect(() => {
    api('GET', `${objectPath(zone, 'proxies', name)}/config`).then(setConfig, (e) =>
      setConfig({ error: e.message }),
    );
  }, [zone, name, revision]);
  const summary = proxySummary(status, name);
  return (
    <section aria-labelledby="xds-heading">
      <h2 id="xds-heading">xDS</h2>
      {!status ? (
        <p aria-busy="true">Loading status…</p>
      ) : summary.connected === 0 ? (
        <p class="warn">No instance of this proxy is connected to the hub or an agent.</p>
      ) : (
        <>
          <p class={summary.inSync ? 'ok' : 'warn'} role="status" data-sync={summary.inSync ? 'in-sync' : 'out-of-sync'}>
            {summary.connected} instance{summary.connected > 1 ? 's' : ''} connected,{' '}
            {summary.inSync ? 'in sync: every resource type acknowledged' : 'not in sync'}.
          </p>
          {summary.nacks.map((n) => (
            <p class="bad" key={n}>
              {n}
            </p>
          ))}
          <div class="scroll">
            <table class="list">
              <thead>
                <tr>
                  <th scope="col">Instance</th>
                  {TYPES.map((t) => (
                    <th scope="col" key={t}>
                      {TYPE_NAMES[t]} (sent / ACKed)
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {summary.streams.map((s) => (
                  <tr key={s.node_id}>
                    <td>
                      {s.node_id}
                      <div class="help">
                        {s.peer} via {s.via || 'hub'}, since {when(s.connected_at)}
                      </div>
                    </td>
                    {TYPES.map((t) => {
                      const ty = (s.types || {})[t];
                      if (!ty) return <td key={t}>—</td>;
                      return (
                        <td key={t}>
                          {ty.version_sent || '—'} / {ty.version_acked || '—'}
                          {ty.pending && <div class="warn">waiting for ACK</div>}
                          {ty.last_ack_time && <div class="help">ACK {when(ty.last_ack_time)}</div>}
                          {ty.last_nack && (
                            <div class="bad">
                              NACK of {ty.last_nack.version} {when(ty.last_nack.time)}: {ty.last_nack.message}
                            </div>
                          )}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      <h2>ACK/NACK history</h2>
      {history.items.length === 0 ? (
        <p class="help">Nothing yet.</p>
      ) : (
        <ul class="ack-history">
          {history.items.map((e) => (
            <li key={e.key} class={e.ok ? '' : 'bad'}>
              {when(e.time)} {e.text}
            </li>
          ))}
        </ul>
      )}
      <p class="help">Since this page opened; the hub keeps the last ACK and NACK of each type.</p>
      <h2>Resources sent</h2>
      {!config ? (
        <p aria-busy="true">Loading…</p>
      ) : config.error ? (
        <p class="warn">{config.error}</p>
      ) : (
        <>
          {config.error && <p class="bad">{config.error}</p>}
          <p class="help">At revision {config.revision}.</p>
          {['listeners', 'routes', 'clusters', 'endpoints'].map((t) => (
            <details key={t}>
              <summary>
                {t} ({(config[t] || []).length})
              </summary>
              <pre>{JSON.stringify(config[t], null, 2)}</pre>
            </details>
          ))}
        </>
      )}
    </section>
  );
}
