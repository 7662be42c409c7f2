// The change log: who changed what and when, with a diff per change;
// filtered by zone, kind and object name (kept in the URL).
import { useEffect, useState } from 'preact/hooks';
import { watch } from '../watch.js';
import { useLocation } from 'preact-iso';
import { api, KINDS, specOf } from '../api.js';
import { useLoad, Loading, toYaml, when } from '../ui.jsx';
import { lineDiff } from '../diff.js';

function Diff({ change }) {
  const before = change.before ? toYaml(specOf(change.before)) : '';
  const after = change.after ? toYaml(specOf(change.after)) : '';
  return (
    <pre class="diff" aria-label={`Diff of revision ${change.revision}`}>
      {lineDiff(before, after).map(([op, line], i) => (
        <div key={i} class={op === '+' ? 'add' : op === '-' ? 'del' : ''}>
          {op} {line}
        </div>
      ))}
    </pre>
  );
}

export function History() {
  const loc = useLocation();
  const q = loc.query;
  const [open, setOpen] = useState(() => new Set());
  const [pages, setPages] = useState([]);
  const params = new URLSearchParams();
  for (const k of ['zone', 'kind', 'name']) if (q[k]) params.set(k, q[k]);
  params.set('limit', '100');
  const state = useLoad(async () => {
    setPages([]);
    return api('GET', `/v1/changelog?${params}`);
  }, [q.zone, q.kind, q.name]);
  // Once the last page is loaded the log is followed live: changes made
  // anywhere appear at the end without a reload.
  const [live, setLive] = useState([]);
  const all = state.data ? [state.data, ...pages] : [];
  const last = all[all.length - 1];
  const complete = last && (last.items || []).length < 100;
  const since = complete ? last.next : null;
  useEffect(() => {
    setLive([]);
    if (!since) return undefined;
    const got = [];
    return watch({
      since,
      zone: q.zone,
      kind: q.kind,
      // The log was compacted past `since` (410): load it again from the
      // oldest entry kept.
      onGone: () => state.reload(),
      onChange: (c) => {
        if (q.name && c.name !== q.name) return;
        got.push(c);
        setLive([...got]);
      },
    });
  }, [since, q.zone, q.kind, q.name]);
  const setFilter = (e) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const p = new URLSearchParams();
    for (const [k, v] of f.entries()) if (v) p.set(k, v);
    loc.route(`/history${p.toString() ? `?${p}` : ''}`);
  };
  async function more(next) {
    const p = new URLSearchParams(params);
    p.set('since', next);
    const page = await api('GET', `/v1/changelog?${p}`);
    setPages([...pages, page]);
  }
  const toggle = (r) => {
    const s = new Set(open);
    s.has(r) ? s.delete(r) : s.add(r);
    setOpen(s);
  };
  return (
    <section>
      <h1>History</h1>
      <form class="row" onSubmit={setFilter} aria-label="Filters">
        <div class="field">
          <label for="h-zone">Zone</label>
          <input id="h-zone" name="zone" defaultValue={q.zone || ''} />
        </div>
        <div class="field">
          <label for="h-kind">Kind</label>
          <select id="h-kind" name="kind" defaultValue={q.kind || ''}>
            <option value="">any</option>
            <option value="Zone">Zone</option>
            {KINDS.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.kind}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="h-name">Object name</label>
          <input id="h-name" name="name" defaultValue={q.name || ''} />
        </div>
        <button type="submit">Filter</button>
      </form>
      <Loading state={state}>
        {() => {
          const items = [...all.flatMap((p) => p.items || []), ...live];
          return (
            <>
              {items.length === 0 && <p>No changes match.</p>}
              <div class="scroll">
                <table class="list">
                  <thead>
                    <tr>
                      <th scope="col">Revision</th>
                      <th scope="col">When</th>
                      <th scope="col">Who</th>
                      <th scope="col">Change</th>
                      <th scope="col">Diff</th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((c) => (
                      <tr key={`${c.revision}/${c.kind}/${c.zone}/${c.name}`}>
                        <td>{c.revision}</td>
                        <td>{when(c.time)}</td>
                        <td>{c.actor}</td>
                        <td>
                          {c.op} {c.kind} {c.zone ? `${c.zone}/` : ''}
                          {c.name}
                        </td>
                        <td>
                          <button class="link" aria-expanded={open.has(c.revision + c.name)}
                            onClick={() => toggle(c.revision + c.name)}>
                            {open.has(c.revision + c.name) ? 'Hide' : 'Show'}
                          </button>
                          {open.has(c.revision + c.name) && <Diff change={c} />}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {last.items && last.items.length >= 100 && last.next && (
                <button class="secondary" onClick={() => more(last.next)}>
                  Later changes
                </button>
              )}
            </>
          );
        }}
      </Loading>
    </section>
  );
}
