// Rules of a route or route group: each matches the request's method,
// headers, cookies or query parameters (all must hold) and sends it to its
// own weighted targets; they are tried in order before the defaults.
import { Field, errorAt } from '../ui.jsx';
import { TargetsEditor } from './Targets.jsx';

const MATCH_KINDS = ['header', 'cookie', 'query'];
const BEHAVIORS = ['exact', 'prefix', 'suffix', 'regex', 'present'];

function MatchRow({ id, m, onChange, onRemove, error, field }) {
  const set = (patch) => onChange({ ...m, ...patch });
  return (
    <div class="row match">
      <Field id={`${id}-kind`} label="On" error={errorAt(error, `${field}.kind`)}>
        <select id={`${id}-kind`} value={m.kind || 'header'} onChange={(e) => set({ kind: e.currentTarget.value })}>
          {MATCH_KINDS.map((k) => (
            <option key={k}>{k}</option>
          ))}
        </select>
      </Field>
      <Field id={`${id}-key`} label="Name" error={errorAt(error, `${field}.key`)}>
        <input id={`${id}-key`} value={m.key || ''} onInput={(e) => set({ key: e.currentTarget.value })} />
      </Field>
      <Field id={`${id}-behavior`} label="Match" error={errorAt(error, `${field}.behavior`)}>
        <select id={`${id}-behavior`} value={m.behavior || 'exact'} onChange={(e) => set({ behavior: e.currentTarget.value })}>
          {BEHAVIORS.map((b) => (
            <option key={b}>{b}</option>
          ))}
        </select>
      </Field>
      {(m.behavior || 'exact') !== 'present' && (
        <Field id={`${id}-value`} label="Value" error={errorAt(error, `${field}.value`)}>
          <input id={`${id}-value`} value={m.value || ''} onInput={(e) => set({ value: e.currentTarget.value })} />
        </Field>
      )}
      <button type="button" class="secondary" onClick={onRemove} aria-label={`Remove match on ${m.key || 'nothing'}`}>
        Remove
      </button>
    </div>
  );
}

function RuleEditor({ id, index, rule, onChange, onRemove, clusters, error }) {
  const field = `rules[${index}]`;
  const matches = rule.matches || [];
  const setMatch = (j, m) => onChange({ ...rule, matches: matches.map((x, k) => (k === j ? m : x)) });
  return (
    <fieldset class="rule" data-field={field}>
      <legend>Rule {index + 1}</legend>
      <Field id={`${id}-methods`} label="Methods" help="Comma-separated, empty for any" error={errorAt(error, `${field}.methods`)}>
        <input id={`${id}-methods`} value={(rule.methods || []).join(', ')}
          onInput={(e) => onChange({ ...rule, methods: e.currentTarget.value.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean) })} />
      </Field>
      {matches.map((m, j) => (
        <MatchRow key={j} id={`${id}-m${j}`} m={m} field={`${field}.matches[${j}]`} error={error}
          onChange={(x) => setMatch(j, x)}
          onRemove={() => onChange({ ...rule, matches: matches.filter((_, k) => k !== j) })} />
      ))}
      <div class="actions">
        <button type="button" class="secondary"
          onClick={() => onChange({ ...rule, matches: [...matches, { kind: 'header', key: '', value: '', behavior: 'exact' }] })}>
          Add match
        </button>
        <button type="button" class="secondary" onClick={onRemove}>
          Remove rule {index + 1}
        </button>
      </div>
      <TargetsEditor id={`${id}-targets`} legend={`Targets of rule ${index + 1}`} errorField={`${field}.targets`}
        targets={rule.targets || []} clusters={clusters} error={error}
        onChange={(t) => onChange({ ...rule, targets: t })} />
    </fieldset>
  );
}

export function RulesEditor({ spec, set, clusters, error }) {
  const rules = spec.rules || [];
  const setRule = (i, r) => set({ ...spec, rules: rules.map((x, j) => (j === i ? r : x)) });
  return (
    <fieldset id="f-rules" data-field="rules">
      <legend>Rules (tried in order, before the defaults)</legend>
      {rules.map((r, i) => (
        <RuleEditor key={i} id={`f-rule${i}`} index={i} rule={r} clusters={clusters} error={error}
          onChange={(x) => setRule(i, x)} onRemove={() => set({ ...spec, rules: rules.filter((_, j) => j !== i) })} />
      ))}
      <div>
        <button type="button" class="secondary"
          onClick={() => set({ ...spec, rules: [...rules, { matches: [{ kind: 'header', key: '', value: '', behavior: 'exact' }], targets: [] }] })}>
          Add rule
        </button>
      </div>
    </fieldset>
  );
}
