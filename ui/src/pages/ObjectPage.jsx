// One object: its form and its YAML (both editable for writers), a
// conflict with someone else's change shown with the current object and a
// way to re-apply, delete with the referrers that block it; for a proxy
// also its xDS state and the exact resources it was sent.
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { parse } from 'yaml';
import { api, kindByPath, objectPath, zonePath, specOf, enc } from '../api.js';
import { session } from '../session.js';
import { useZoneObjects } from '../zoneData.js';
import { ErrorBanner, toYaml, when } from '../ui.jsx';
import { FORMS, FORM_FIELDS } from '../forms/KindForms.jsx';
import { ProxyStatus } from './ProxyStatus.jsx';

const DEFAULTS = {
  Proxy: { domains: [] },
  Domain: { aliases: [] },
  Cluster: { instances: [] },
  RouteGroup: { default: [] },
  Route: { path: '/' },
};

function Breadcrumbs({ zone, k, name }) {
  return (
    <nav aria-label="Breadcrumbs" class="help">
      <a href="/zones">Zones</a> / <a href={`/zones/${enc(zone)}`}>{zone}</a> / {k.title}
      {name ? ` / ${name}` : ''}
    </nav>
  );
}

export function ObjectCreate({ zone, kind }) {
  const k = kindByPath(kind);
  const loc = useLocation();
  const data = useZoneObjects(zone);
  const [spec, setSpec] = useState(() => ({ ...(k ? DEFAULTS[k.kind] : {}) }));
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  if (!k) return <p>No such kind: {kind}</p>;
  if (!data.objects) return <p aria-busy="true">Loading…</p>;
  const Form = FORMS[k.kind];
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await api('POST', `${zonePath(zone)}/${k.path}`, spec);
      loc.route(`/zones/${enc(zone)}/${k.path}/${enc(created.name)}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  return (
    <section>
      <Breadcrumbs zone={zone} k={k} />
      <h1>New {k.one} in {zone}</h1>
      <form class="form" onSubmit={submit} noValidate>
        <ErrorBanner error={error} fields={FORM_FIELDS[k.kind]} />
        <Form spec={spec} set={setSpec} refs={data.objects} creating error={error} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            Create {k.one}
          </button>
          <a href={`/zones/${enc(zone)}`}>Cancel</a>
        </div>
      </form>
    </section>
  );
}

function Conflict({ conflict, draft, onReapply, onDiscard, busy }) {
  return (
    <div class="error banner conflict" role="alert">
      <p>
        <strong>Conflict:</strong> someone else changed this object while you were editing it. It
        is now version {conflict.version}
        {conflict.updated_at ? ` (${when(conflict.updated_at)})` : ''}. Nothing of your edit was
        written.
      </p>
      <div class="row">
        <div>
          <h3>Current object</h3>
          <pre class="current-object">{toYaml(specOf(conflict))}</pre>
        </div>
        <div>
          <h3>Your edit</h3>
          <pre>{toYaml(draft)}</pre>
        </div>
      </div>
      <div class="actions">
        <button onClick={onReapply} disabled={busy}>
          Re-apply my edit on version {conflict.version}
        </button>
        <button class="secondary" onClick={onDiscard}>
          Discard my edit
        </button>
      </div>
    </div>
  );
}

export function ObjectPage({ zone, kind, name }) {
  const k = kindByPath(kind);
  const loc = useLocation();
  const caps = session.value.caps;
  const data = useZoneObjects(zone);
  const view = loc.query.view === 'yaml' ? 'yaml' : 'form';
  const [draft, setDraft] = useState(null); // the user's edit, null when none
  const [base, setBase] = useState(null); // the version the edit started from
  const [yamlText, setYamlText] = useState(null);
  const [error, setError] = useState(null);
  const [conflict, setConflict] = useState(null);
  const [saved, setSaved] = useState('');
  const [busy, setBusy] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  if (!k) return <p>No such kind: {kind}</p>;
  if (data.error) return <ErrorBanner error={data.error} />;
  if (!data.objects) return <p aria-busy="true">Loading…</p>;
  const current = data.objects[k.kind].get(name);
  if (!current) {
    return (
      <section>
        <Breadcrumbs zone={zone} k={k} name={name} />
        <h1>{k.one} {name}</h1>
        <p role="status">There is no {k.one} {name} in zone {zone} (it may have been deleted).</p>
      </section>
    );
  }
  const Form = FORMS[k.kind];
  const spec = draft || specOf(current);
  const edit = (next) => {
    if (base === null) setBase(current.version);
    setDraft(next);
    setSaved('');
  };
  async function put(body, version) {
    setBusy(true);
    setError(null);
    try {
      const res = await api('PUT', objectPath(zone, k.path, name), { ...body, version });
      setDraft(null);
      setBase(null);
      setYamlText(null);
      setConflict(null);
      setSaved(`Saved: version ${res.version}.`);
    } catch (err) {
      if (err.code === 'version_conflict' && err.current) {
        setConflict(err.current);
      } else {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  }
  function saveForm(e) {
    e.preventDefault();
    put(spec, base ?? current.version);
  }
  function saveYaml(e) {
    e.preventDefault();
    let doc;
    try {
      doc = parse(yamlText ?? '');
    } catch (err) {
      setError({ message: `YAML: ${err.message}`, field: 'yaml' });
      return;
    }
    if (!doc || typeof doc !== 'object') {
      setError({ message: 'YAML: expected the object as a mapping', field: 'yaml' });
      return;
    }
    const { version, kind: _k, zone: _z, ...body } = doc;
    setDraft(specOf(body));
    put(body, version ?? base ?? current.version);
  }
  async function remove() {
    setBusy(true);
    try {
      await api('DELETE', `${objectPath(zone, k.path, name)}?version=${enc(current.version)}`);
      loc.route(`/zones/${enc(zone)}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  const changedElsewhere = draft && base !== null && base !== current.version;
  const yamlDoc = toYaml({ kind: k.kind, zone, ...spec, version: base ?? current.version });
  const tab = (v, label) => (
    <a href={`?view=${v}`} aria-current={view === v ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <section>
      <Breadcrumbs zone={zone} k={k} name={name} />
      <div class="title-row">
        <h1>
          {k.kind} {name}
        </h1>
        <div class="tools">
          <a class="button secondary" href={`/history?zone=${enc(zone)}&kind=${k.kind}&name=${enc(name)}`}>
            History
          </a>
          {caps.write && (
            <button class="danger" onClick={() => setConfirmDelete(!confirmDelete)} aria-expanded={confirmDelete}>
              Delete
            </button>
          )}
        </div>
      </div>
      <p class="help">
        Version {current.version}, updated {when(current.updated_at)}
      </p>
      {confirmDelete && (
        <div class="notice">
          <p>
            Delete {k.one} {name}? Objects that refer to it must go first; the hub refuses otherwise
            and lists them.
          </p>
          <button class="danger" onClick={remove} disabled={busy}>
            Delete {k.one} {name}
          </button>
        </div>
      )}
      {k.kind === 'Proxy' && <ProxyStatus zone={zone} name={name} />}
      {saved && (
        <p class="ok" role="status">
          {saved}
        </p>
      )}
      {changedElsewhere && !conflict && (
        <p class="warn" role="status">
          This object changed elsewhere (now version {current.version}) since you started editing.
        </p>
      )}
      {conflict && (
        <Conflict conflict={conflict} draft={spec} busy={busy}
          onReapply={() => put(spec, conflict.version)}
          onDiscard={() => {
            setConflict(null);
            setDraft(null);
            setBase(null);
            setYamlText(null);
          }} />
      )}
      {!caps.write ? (
        <>
          <h2>YAML</h2>
          <pre>{yamlDoc}</pre>
        </>
      ) : (
        <>
          <h2>Edit</h2>
          <nav class="tabs" aria-label="Views">
            {tab('form', 'Form')}
            {tab('yaml', 'YAML')}
          </nav>
          {view === 'form' ? (
            <form class="form" onSubmit={saveForm} noValidate>
              <ErrorBanner error={error} fields={FORM_FIELDS[k.kind]} />
              <Form spec={spec} set={edit} refs={data.objects} creating={false} error={error} />
              <div class="actions">
                <button type="submit" disabled={busy || !draft}>
                  Save
                </button>
                {draft && (
                  <button type="button" class="secondary" onClick={() => { setDraft(null); setBase(null); setError(null); }}>
                    Undo changes
                  </button>
                )}
              </div>
            </form>
          ) : (
            <form class="form" onSubmit={saveYaml}>
              <ErrorBanner error={error} fields={['yaml']} />
              <label for="yaml">YAML (kind, zone and name are fixed; version is the precondition)</label>
              <textarea id="yaml" class="code" value={yamlText ?? yamlDoc}
                onInput={(e) => {
                  if (base === null) setBase(current.version);
                  setYamlText(e.currentTarget.value);
                }} />
              {error && error.field === 'yaml' && (
                <p class="error field-error" role="alert">{error.message}</p>
              )}
              <div class="actions">
                <button type="submit" disabled={busy || yamlText === null}>
                  Save YAML
                </button>
              </div>
            </form>
          )}
        </>
      )}
    </section>
  );
}
