// Tokens (admins): create with a role, an optional zone and expiry; the
// secret is shown once; list and revoke.
import { useEffect, useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { useLoad, Loading, Field, ErrorBanner, errorAt, when } from '../ui.jsx';

const ROLES = ['viewer', 'editor', 'admin', 'agent', 'proxy'];

export function Tokens() {
  const list = useLoad(() => api('GET', '/v1/tokens'), []);
  // Tokens are not in the change log, so the list is asked for again every
  // few seconds to show other admins' changes and last-used times.
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 5000);
    return () => clearInterval(t);
  }, []);
  useEffect(() => {
    if (tick) list.reload();
  }, [tick]);
  const zones = useLoad(() => api('GET', '/v1/zones'), []);
  const [form, setForm] = useState({ name: '', role: 'viewer', zone: '', ttl: '' });
  const [error, setError] = useState(null);
  const [created, setCreated] = useState(null);
  const [revoking, setRevoking] = useState('');
  async function create(e) {
    e.preventDefault();
    setError(null);
    setCreated(null);
    const body = { name: form.name, role: form.role };
    if (form.zone) body.zone = form.zone;
    if (form.ttl) body.ttl = form.ttl;
    try {
      setCreated(await api('POST', '/v1/tokens', body));
      setForm({ ...form, name: '' });
      list.reload();
    } catch (err) {
      setError(err);
    }
  }
  async function revoke(name) {
    setError(null);
    try {
      await api('DELETE', `/v1/tokens/${enc(name)}`);
      setRevoking('');
      list.reload();
    } catch (err) {
      setError(err);
    }
  }
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  return (
    <section>
      <h1>Tokens</h1>
      <h2>New token</h2>
      <form class="form" onSubmit={create} noValidate>
        <ErrorBanner error={error} fields={['name', 'role', 'zone', 'ttl']} />
        <Field id="t-name" label="Name" error={errorAt(error, 'name')} help="Recorded as the actor of its writes">
          <input id="t-name" value={form.name} onInput={set('name')} required />
        </Field>
        <Field id="t-role" label="Role" error={errorAt(error, 'role')}>
          <select id="t-role" value={form.role} onChange={set('role')}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </Field>
        <Field id="t-zone" label="Zone" error={errorAt(error, 'zone')} help="Limit the token to one zone, or every zone">
          <select id="t-zone" value={form.zone} onChange={set('zone')}>
            <option value="">every zone</option>
            {((zones.data && zones.data.items) || []).map((z) => (
              <option key={z.name} value={z.name}>
                {z.name}
              </option>
            ))}
          </select>
        </Field>
        <Field id="t-ttl" label="Expires after" error={errorAt(error, 'ttl')} help="e.g. 30m, 12h, 7d; empty: never">
          <input id="t-ttl" value={form.ttl} onInput={set('ttl')} />
        </Field>
        <div class="actions">
          <button type="submit">Create token</button>
        </div>
      </form>
      {created && (
        <div class="notice" role="status">
          <p>
            Token <strong>{created.name}</strong> ({created.role}
            {created.zone ? `, zone ${created.zone}` : ''}). Copy the secret now: it is not shown
            again.
          </p>
          <label for="t-secret">Secret</label>
          <input id="t-secret" class="secret" readOnly value={created.secret} size={60}
            onFocus={(e) => e.currentTarget.select()} />
        </div>
      )}
      <h2>Tokens</h2>
      <Loading state={list}>
        {(d) => (
          <div class="scroll">
            <table class="list">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Zone</th>
                  <th scope="col">Created</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span class="skip-label">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((t) => (
                  <tr key={t.name} data-name={t.name}>
                    <td>{t.name}</td>
                    <td>{t.role}</td>
                    <td>{t.zone || 'every zone'}</td>
                    <td>
                      {when(t.created_at)} by {t.created_by}
                    </td>
                    <td>{t.expires_at ? when(t.expires_at) : 'never'}</td>
                    <td>{t.last_used_at ? when(t.last_used_at) : '—'}</td>
                    <td>
                      {revoking === t.name ? (
                        <span class="actions">
                          <button class="danger" onClick={() => revoke(t.name)}>
                            Revoke {t.name}
                          </button>
                          <button class="secondary" onClick={() => setRevoking('')}>
                            Keep
                          </button>
                        </span>
                      ) : (
                        <button class="secondary" onClick={() => setRevoking(t.name)}>
                          Revoke…
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Loading>
    </section>
  );
}
