// Follows /v1/watch (server-sent events) with fetch() streaming: the
// browser's EventSource cannot send the Authorization header. Reconnects
// from the last event id it saw, so no change is missed or applied twice.
import { token } from './session.js';

export function watch({ since, zone, kind, onChange, onState }) {
  const ctrl = new AbortController();
  let last = since;
  let stopped = false;
  const params = () =>
    `since=${encodeURIComponent(last)}` + (zone ? `&zone=${encodeURIComponent(zone)}` : "") + (kind ? `&kind=${kind}` : "");
  (async () => {
    while (!stopped) {
      try {
        const res = await fetch(`/v1/watch?${params()}`, {
          headers: { Authorization: `Bearer ${token()}` },
          signal: ctrl.signal,
          cache: 'no-store',
          credentials: 'omit',
        });
        if (!res.ok) throw new Error(`watch: HTTP ${res.status}`);
        onState && onState('live');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let end;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            let id = '';
            let event = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('id: ')) id = line.slice(4);
              else if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data += line.slice(6);
            }
            if (event === 'change' && data) {
              if (id) last = id;
              onChange(JSON.parse(data));
            }
          }
        }
      } catch (e) {
        if (stopped) return;
      }
      if (stopped) return;
      onState && onState('reconnecting');
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return () => {
    stopped = true;
    ctrl.abort();
  };
}
