// A viewer sees everything of its zones and no write control; a token
// limited to one zone sees no other zone.
import assert from 'node:assert/strict';
import { pageWithToken, waitText, axeViolations } from '../lib/browser.mjs';

const WRITE_WORDS = /^(New |Delete|Save|Create|Revoke|Re-apply|Add |Remove|Undo)/;

async function writeControls(page) {
  return page.$$eval('button, a.button, input:not([readonly]):not([type=hidden]), select, textarea:not([readonly])', (els) =>
    els
      .filter((e) => !e.closest('form[aria-label=Filters]') && !e.closest('.explain-form'))
      .map((e) => (e.textContent || e.id || e.tagName).trim()),
  ).then((l) => l.filter((t) => WRITE_WORDS.test(t) || /^f-/.test(t)));
}

export async function roles({ hub, browser, shots }) {
  await hub.api('POST', '/v1/apply', {
    items: [
      { kind: 'Zone', name: 'team-a' },
      { kind: 'Zone', name: 'team-b' },
      { kind: 'Cluster', zone: 'team-a', name: 'web', instances: [{ host: '10.0.0.1', port: 80 }] },
      { kind: 'Cluster', zone: 'team-b', name: 'db', instances: [{ host: '10.0.0.9', port: 5432 }] },
    ],
  });
  const viewer = await hub.token('watcher', 'viewer');
  const limited = await hub.token('team-b-editor', 'editor', 'team-b');

  const v = await pageWithToken(browser, viewer);
  await v.goto(`${hub.url}/zones`);
  await waitText(v, 'table', 'team-b');
  assert.deepEqual(await writeControls(v), []);
  assert.equal(await v.$$eval('nav a', (l) => l.filter((a) => a.textContent === 'Tokens').length), 0);
  await v.goto(`${hub.url}/zones/team-a`);
  await waitText(v, 'section[data-kind=Cluster]', '10.0.0.1:80');
  assert.deepEqual(await writeControls(v), []);
  assert.deepEqual(await axeViolations(v), []);
  await shots.take(v, 'zone-viewer');
  await v.goto(`${hub.url}/zones/team-a/clusters/web`);
  await waitText(v, 'pre', '10.0.0.1');
  assert.deepEqual(await writeControls(v), []);
  await shots.take(v, 'cluster-viewer');

  const l = await pageWithToken(browser, limited);
  await l.goto(`${hub.url}/zones`);
  await waitText(l, 'table', 'team-b');
  const zones = await l.$$eval('table.list tbody tr', (rows) => rows.map((r) => r.cells[0].textContent));
  assert.deepEqual(zones, ['team-b']);
  // An editor of team-b cannot create zones, but writes in its own.
  assert.equal(await l.$$eval('a.button', (b) => b.filter((x) => x.textContent === 'New zone').length), 0);
  await l.goto(`${hub.url}/zones/team-b`);
  await waitText(l, 'section[data-kind=Cluster]', 'db');
  assert.ok((await writeControls(l)).includes('New cluster'));
  // The other zone does not exist for it.
  await l.goto(`${hub.url}/zones/team-a`);
  await waitText(l, '[role=alert]', 'not found');
  assert.equal(await l.$$eval('section[data-kind]', (s) => s.length), 0);
  await l.goto(`${hub.url}/history`);
  await waitText(l, 'table', 'team-b');
  const history = await l.$eval('table.list tbody', (t) => t.textContent);
  assert.ok(!history.includes('team-a'), 'history shows another zone');
}
