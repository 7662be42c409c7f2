// Small building blocks shared by the pages: loading state, error banners,
// labelled fields that show the server's error for their `field`.
import { useEffect, useState, useCallback } from 'preact/hooks';
import { stringify } from 'yaml';

// Runs `load` on mount and whenever `deps` change; reload() runs it again.
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const run = useCallback(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    );
    return () => (live = false);
  }, deps);
  useEffect(run, [run]);
  return { ...state, reload: run };
}

// Whether the server's error field names this field or something inside it
// ("rules[0].targets" belongs to "rules").
export function fieldMatches(errorField, name) {
  if (!errorField || !name) return false;
  const f = errorField.replace(/^items\[\d+\]\.?/, '');
  return f === name || f.startsWith(name + '.') || f.startsWith(name + '[');
}

export function Field({ id, label, error, help, children }) {
  const errId = `${id}-error`;
  return (
    <div class={`field${error ? ' has-error' : ''}`} data-field={id}>
      <label for={id}>{label}</label>
      {children}
      {help && <p class="help">{help}</p>}
      {error && (
        <p class="error field-error" id={errId} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

// The error of `err` (an ApiError) if it belongs at `name`.
export const errorAt = (err, name) => (err && fieldMatches(err.field, name) ? err.message : '');

export function ErrorBanner({ error, fields = [] }) {
  if (!error) return null;
  // Errors shown at a field are not repeated here.
  if (error.field && fields.some((f) => fieldMatches(error.field, f))) {
    return (
      <p class="error banner" role="alert">
        The hub refused the change: see the field marked below. Nothing was written.
      </p>
    );
  }
  return (
    <div class="error banner" role="alert">
      <p>
        {error.message}
        {error.field && <> (field <code>{error.field}</code>)</>}
      </p>
      {error.referrers && error.referrers.length > 0 && (
        <ul>
          {error.referrers.map((r) => (
            <li key={`${r.kind}/${r.name}/${r.field}`}>
              {r.kind} <a href={refHref(r)}>{r.name}</a> uses it in <code>{r.field}</code>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

const KIND_PATH = {
  Proxy: 'proxies',
  Domain: 'domains',
  Route: 'routes',
  RouteGroup: 'route-groups',
  Cluster: 'clusters',
};
export const refHref = (r) =>
  `/zones/${encodeURIComponent(r.zone)}/${KIND_PATH[r.kind]}/${encodeURIComponent(r.name)}`;

export function Loading({ state, children }) {
  if (state.error)
    return (
      <p class="error" role="alert">
        {state.error.message}
      </p>
    );
  if (!state.data) return <p aria-busy="true">Loading…</p>;
  return children(state.data);
}

export const toYaml = (v) => stringify(v, { lineWidth: 0 });

export function when(t) {
  if (!t) return '';
  const d = new Date(t);
  return isNaN(d) ? String(t) : d.toLocaleString();
}
