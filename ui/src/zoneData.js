// A zone's objects, listed once and then kept current from the watch
// stream; and its proxies' xDS status, polled (status is live state, not a
// change the watch stream carries).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, KINDS, zonePath } from './api.js';
import { watch } from './watch.js';

export function useZoneObjects(zone) {
  const store = useRef(null);
  const [state, setState] = useState({ objects: null, zone: null, error: null, live: 'connecting', tick: 0 });
  // Bumped when the watch is gone (410): the zone is listed again.
  const [listing, setListing] = useState(0);
  useEffect(() => {
    let live = true;
    let stop = () => {};
    store.current = null;
    setState({ objects: null, zone: null, error: null, live: 'connecting', tick: 0 });
    (async () => {
      const [zoneObj, ...lists] = await Promise.all([
        api('GET', zonePath(zone)),
        ...KINDS.map((k) => api('GET', `${zonePath(zone)}/${k.path}`)),
      ]);
      if (!live) return;
      const objects = {};
      KINDS.forEach((k, i) => {
        objects[k.kind] = new Map(lists[i].items.map((o) => [o.name, o]));
      });
      const s = { zone: zoneObj, objects };
      store.current = s;
      // Every change after the oldest list: replaying one a list already
      // reflects leaves the same state, so nothing is missed.
      const since = Math.min(...lists.map((l) => Number(l.revision)));
      let frame = 0;
      const publish = (extra = {}) => {
        if (!live) return;
        setState((prev) => ({ ...prev, ...extra, zone: s.zone, objects: s.objects, tick: prev.tick + 1 }));
      };
      publish({ live: 'connecting' });
      stop = watch({
        since,
        zone,
        onState: (l) => live && setState((prev) => ({ ...prev, live: l })),
        onGone: () => live && setListing((n) => n + 1),
        onChange: (c) => {
          if (c.kind === 'Zone') {
            if (c.name === zone) s.zone = c.after || null;
            return publish();
          }
          const map = s.objects[c.kind];
          if (!map) return;
          s.objects = { ...s.objects, [c.kind]: new Map(map) };
          if (c.after) s.objects[c.kind].set(c.name, c.after);
          else s.objects[c.kind].delete(c.name);
          // One render per frame however many changes arrive.
          if (!frame) {
            frame = requestAnimationFrame(() => {
              frame = 0;
              publish();
            });
          }
        },
      });
    })().catch((error) => live && setState((prev) => ({ ...prev, error })));
    return () => {
      live = false;
      stop();
    };
  }, [zone, listing]);
  return state;
}

export function useZoneStatus(zone, everyMs = 2000) {
  const [status, setStatus] = useState(null);
  useEffect(() => {
    let live = true;
    let timer = 0;
    const poll = async () => {
      try {
        const s = await api('GET', `${zonePath(zone)}/status`);
        if (live) setStatus(s);
      } catch (e) {
        if (live) setStatus({ error: e.message });
      }
      if (live) timer = setTimeout(poll, everyMs);
    };
    poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [zone]);
  return status;
}

const TYPES = ['cds', 'eds', 'lds', 'rds'];

// One proxy's streams summarised: connected instances, in sync, NACKs.
export function proxySummary(status, name) {
  const streams = ((status && status.proxies) || []).filter((p) => p.proxy === name);
  const nacks = [];
  let inSync = streams.length > 0;
  for (const s of streams) {
    for (const t of TYPES) {
      const ty = s.types && s.types[t];
      if (!ty) continue;
      if (ty.pending || ty.version_acked !== ty.version_sent) inSync = false;
      if (ty.last_nack && ty.last_nack.version === ty.version_sent) {
        nacks.push(`${t.toUpperCase()} version ${ty.last_nack.version} was rejected: ${ty.last_nack.message}`);
      }
    }
  }
  if (nacks.length) inSync = false;
  return { streams, connected: streams.length, inSync, nacks };
}
