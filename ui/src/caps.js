// What the signed-in token may do. The API has no "who am I" call, so the
// console asks what it needs to know with requests that change nothing:
// listing tokens (admins only) and dry-run applies (writers only).
import { api } from './api.js';

async function allowed(method, path, body) {
  try {
    await api(method, path, body);
    return true;
  } catch (e) {
    if (e.status === 403) return false;
    throw e;
  }
}

export async function probeCapabilities() {
  const zones = (await api('GET', '/v1/zones')).items || [];
  const zone = zones.length ? zones[0].name : 'console-probe';
  const dry = '/v1/apply?dry_run=true';
  const [admin, write, createZones] = await Promise.all([
    allowed('GET', '/v1/tokens'),
    // A proxy is what neither a viewer nor an agent may write.
    allowed('POST', dry, { items: [{ kind: 'Proxy', zone, name: 'console-probe' }] }),
    allowed('POST', dry, { items: [{ kind: 'Zone', name: 'console-probe-zone' }] }),
  ]);
  return { admin, write, createZones };
}
