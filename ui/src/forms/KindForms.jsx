// One form per kind, following the model: references are chosen from the
// zone's objects, and each input shows the server's error for its field.
import { Field, errorAt } from '../ui.jsx';
import { TargetsEditor } from './Targets.jsx';
import { RulesEditor } from './Rules.jsx';

const names = (map) => [...map.keys()].sort();

function NameField({ spec, set, creating, error, help }) {
  return (
    <Field id="f-name" label="Name" error={errorAt(error, 'name')} help={help}>
      <input id="f-name" value={spec.name || ''} readOnly={!creating} required
        onInput={(e) => set({ ...spec, name: e.currentTarget.value })} />
    </Field>
  );
}

function Select({ id, label, value, options, onChange, error }) {
  return (
    <Field id={id} label={label} error={error}>
      <select id={id} value={value || ''} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">(choose)</option>
        {!options.includes(value) && value && <option value={value}>{value}</option>}
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </Field>
  );
}

function ProxyForm({ spec, set, refs, creating, error }) {
  const domains = names(refs.Domain);
  const chosen = spec.domains || [];
  const toggle = (d, on) =>
    set({ ...spec, domains: on ? [...chosen, d] : chosen.filter((x) => x !== d) });
  return (
    <>
      <NameField spec={spec} set={set} creating={creating} error={error} />
      <fieldset id="f-domains" data-field="domains" class={errorAt(error, 'domains') ? 'has-error' : ''}>
        <legend>Domains served (one listener per port)</legend>
        {domains.length === 0 && <p class="help">The zone has no domains yet.</p>}
        {[...new Set([...domains, ...chosen])].map((d) => (
          <label key={d}>
            <input type="checkbox" checked={chosen.includes(d)}
              onChange={(e) => toggle(d, e.currentTarget.checked)} /> {d}
          </label>
        ))}
        {errorAt(error, 'domains') && (
          <p class="error field-error" role="alert">{errorAt(error, 'domains')}</p>
        )}
      </fieldset>
    </>
  );
}

function DomainForm({ spec, set, creating, error }) {
  const update = (patch) => {
    const next = { ...spec, ...patch };
    if (creating) next.name = `${next.host || ''}:${next.port || ''}`;
    set(next);
  };
  return (
    <>
      <Field id="f-host" label="Host" error={errorAt(error, 'host') || errorAt(error, 'name')}
        help="e.g. demo.turbinelabs.io">
        <input id="f-host" value={spec.host || ''} readOnly={!creating}
          onInput={(e) => update({ host: e.currentTarget.value })} />
      </Field>
      <Field id="f-port" label="Port" error={errorAt(error, 'port')}>
        <input id="f-port" type="number" min="1" max="65535" value={spec.port ?? ''} readOnly={!creating}
          onInput={(e) => update({ port: e.currentTarget.value === '' ? undefined : Number(e.currentTarget.value) })} />
      </Field>
      <Field id="f-aliases" label="Aliases" error={errorAt(error, 'aliases')}
        help="Comma-separated: exact names, *.suffix or prefix.*">
        <input id="f-aliases" value={(spec.aliases || []).join(', ')}
          onInput={(e) => update({ aliases: e.currentTarget.value.split(',').map((s) => s.trim()).filter(Boolean) })} />
      </Field>
    </>
  );
}

function metaText(m) {
  return Object.entries(m || {}).map(([k, v]) => `${k}=${v}`).join(', ');
}
function parseMeta(text) {
  const out = {};
  for (const part of text.split(',')) {
    const [k, ...v] = part.split('=');
    if (k.trim()) out[k.trim()] = v.join('=').trim();
  }
  return out;
}

function ClusterForm({ spec, set, creating, error }) {
  const instances = spec.instances || [];
  const setInst = (i, patch) =>
    set({ ...spec, instances: instances.map((x, j) => (j === i ? { ...x, ...patch } : x)) });
  return (
    <>
      <NameField spec={spec} set={set} creating={creating} error={error} help="e.g. envoy-simple" />
      <fieldset id="f-instances" data-field="instances">
        <legend>Instances</legend>
        {instances.map((inst, i) => (
          <div class="row instance" key={i}>
            <Field id={`f-inst-${i}-host`} label="Host" error={errorAt(error, `instances[${i}].host`)}>
              <input id={`f-inst-${i}-host`} value={inst.host || ''}
                onInput={(e) => setInst(i, { host: e.currentTarget.value })} />
            </Field>
            <Field id={`f-inst-${i}-port`} label="Port" error={errorAt(error, `instances[${i}].port`)}>
              <input id={`f-inst-${i}-port`} type="number" value={inst.port ?? ''}
                onInput={(e) => setInst(i, { port: e.currentTarget.value === '' ? undefined : Number(e.currentTarget.value) })} />
            </Field>
            <Field id={`f-inst-${i}-weight`} label="Weight" error={errorAt(error, `instances[${i}].weight`)}>
              <input id={`f-inst-${i}-weight`} type="number" min="1" max="128" value={inst.weight ?? 1}
                onInput={(e) => setInst(i, { weight: Number(e.currentTarget.value) })} />
            </Field>
            <Field id={`f-inst-${i}-meta`} label="Metadata" error={errorAt(error, `instances[${i}].metadata`)}>
              <input id={`f-inst-${i}-meta`} value={metaText(inst.metadata)} placeholder="k=v, k2=v2"
                onChange={(e) => setInst(i, { metadata: parseMeta(e.currentTarget.value) })} />
            </Field>
            <button type="button" class="secondary" aria-label={`Remove instance ${i + 1}`}
              onClick={() => set({ ...spec, instances: instances.filter((_, j) => j !== i) })}>
              Remove
            </button>
          </div>
        ))}
        <div>
          <button type="button" class="secondary"
            onClick={() => set({ ...spec, instances: [...instances, { host: '', port: undefined }] })}>
            Add instance
          </button>
        </div>
      </fieldset>
    </>
  );
}

function RouteGroupForm({ spec, set, refs, creating, error }) {
  return (
    <>
      <NameField spec={spec} set={set} creating={creating} error={error} help="e.g. default" />
      <TargetsEditor id="f-default" legend="Default targets (weights sum to 100%)" errorField="default"
        targets={spec.default || []} clusters={names(refs.Cluster)} error={error}
        onChange={(t) => set({ ...spec, default: t })} />
      <RulesEditor spec={spec} set={set} clusters={names(refs.Cluster)} error={error} />
    </>
  );
}

function RouteForm({ spec, set, refs, creating, error }) {
  return (
    <>
      <NameField spec={spec} set={set} creating={creating} error={error} help="e.g. api" />
      <Select id="f-domain" label="Domain" value={spec.domain} options={names(refs.Domain)}
        error={errorAt(error, 'domain')} onChange={(v) => set({ ...spec, domain: v })} />
      <Field id="f-path" label="Path prefix" error={errorAt(error, 'path')} help="Starts with /, e.g. /api">
        <input id="f-path" value={spec.path || ''} onInput={(e) => set({ ...spec, path: e.currentTarget.value })} />
      </Field>
      <Select id="f-route_group" label="Route group" value={spec.route_group} options={names(refs.RouteGroup)}
        error={errorAt(error, 'route_group')} onChange={(v) => set({ ...spec, route_group: v })} />
      <Field id="f-timeout" label="Timeout (ms, 0 = none)" error={errorAt(error, 'timeout_ms')}>
        <input id="f-timeout" type="number" min="0" value={spec.timeout_ms ?? 0}
          onInput={(e) => set({ ...spec, timeout_ms: Number(e.currentTarget.value) })} />
      </Field>
      <RulesEditor spec={spec} set={set} clusters={names(refs.Cluster)} error={error} />
    </>
  );
}

export const FORMS = {
  Proxy: ProxyForm,
  Domain: DomainForm,
  Cluster: ClusterForm,
  RouteGroup: RouteGroupForm,
  Route: RouteForm,
};

// The fields each form shows, so that other errors go to the banner.
export const FORM_FIELDS = {
  Proxy: ['name', 'domains'],
  Domain: ['name', 'host', 'port', 'aliases'],
  Cluster: ['name', 'instances'],
  RouteGroup: ['name', 'default', 'rules'],
  Route: ['name', 'domain', 'path', 'route_group', 'timeout_ms', 'rules'],
};
