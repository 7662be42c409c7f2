// A route group's (or rule's) targets: a cluster chosen from the zone's
// clusters and a weight slider per target. The sliders always sum to 100%:
// moving one shares what is left among the others in their proportions
// (Houston's incremental release). The API's weights are relative integers
// of at least 1, so percentages are stored as they are.
import { errorAt } from '../ui.jsx';

export function rebalance(weights, index, value) {
  const n = weights.length;
  if (n === 1) return [100];
  const v = Math.max(1, Math.min(100 - (n - 1), Math.round(value)));
  const rest = 100 - v;
  const others = weights.map((w, i) => (i === index ? 0 : Math.max(0, w)));
  const total = others.reduce((a, b) => a + b, 0);
  let out = weights.map((w, i) =>
    i === index ? v : Math.max(1, Math.round(total ? (rest * others[i]) / total : rest / (n - 1))),
  );
  // Rounding drift goes to the largest other target.
  let drift = 100 - out.reduce((a, b) => a + b, 0);
  while (drift !== 0) {
    let j = -1;
    for (let i = 0; i < n; i++) {
      if (i === index) continue;
      if (drift < 0 && out[i] <= 1) continue;
      if (j < 0 || out[i] > out[j]) j = i;
    }
    if (j < 0) break;
    const step = drift > 0 ? drift : Math.max(drift, 1 - out[j]);
    out[j] += step;
    drift -= step;
  }
  return out;
}

// Weights as percentages summing to 100 (what the sliders show).
export function asPercent(targets) {
  const ws = targets.map((t) => t.weight || 1);
  const total = ws.reduce((a, b) => a + b, 0);
  if (total === 100) return ws;
  if (!ws.length) return [];
  return rebalance(ws.map((w) => (w * 100) / total), 0, (ws[0] * 100) / total);
}

export function TargetsEditor({ id, legend, targets, onChange, clusters, error, errorField }) {
  const weights = asPercent(targets);
  const set = (list) => onChange(list);
  const setCluster = (i, cluster) => set(targets.map((t, j) => (j === i ? { ...t, cluster } : t)));
  const setWeight = (i, value) => {
    const ws = rebalance(weights, i, value);
    set(targets.map((t, j) => ({ ...t, weight: ws[j] })));
  };
  const add = () => {
    const n = targets.length + 1;
    const share = Math.floor(100 / n);
    const grown = [...targets.map((t, j) => ({ ...t, weight: weights[j] })), { cluster: clusters[0] || '', weight: share }];
    const ws = rebalance(grown.map((t) => t.weight), n - 1, share);
    set(grown.map((t, j) => ({ ...t, weight: ws[j] })));
  };
  const remove = (i) => {
    const left = targets.filter((_, j) => j !== i);
    if (!left.length) return set([]);
    const ws = asPercent(left);
    set(left.map((t, j) => ({ ...t, weight: ws[j] })));
  };
  return (
    <fieldset id={id} data-field={errorField}>
      <legend>{legend}</legend>
      {targets.map((t, i) => {
        const cid = `${id}-${i}-cluster`;
        const wid = `${id}-${i}-weight`;
        const err = errorAt(error, `${errorField}[${i}]`);
        return (
          <div class="row target" key={i}>
            <div class="field">
              <label for={cid}>Cluster</label>
              <select id={cid} value={t.cluster} onChange={(e) => setCluster(i, e.currentTarget.value)}>
                {!clusters.includes(t.cluster) && <option value={t.cluster}>{t.cluster || '(choose)'}</option>}
                {clusters.map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for={wid}>Weight {weights[i]}%</label>
              <input
                id={wid}
                type="range"
                min="1"
                max="100"
                value={weights[i]}
                disabled={targets.length < 2}
                aria-valuetext={`${weights[i]}%`}
                onInput={(e) => setWeight(i, Number(e.currentTarget.value))}
              />
            </div>
            <button type="button" class="secondary" onClick={() => remove(i)} aria-label={`Remove target ${t.cluster}`}>
              Remove
            </button>
            {err && (
              <p class="error field-error" role="alert">
                {err}
              </p>
            )}
          </div>
        );
      })}
      <div>
        <button type="button" class="secondary" onClick={add} disabled={!clusters.length}>
          Add target
        </button>
      </div>
      {errorAt(error, errorField) && !targets.some((_, i) => errorAt(error, `${errorField}[${i}]`)) && (
        <p class="error field-error" role="alert">
          {errorAt(error, errorField)}
        </p>
      )}
    </fieldset>
  );
}
