// Follows /v1/watch (server-sent events) with fetch() streaming: the
// browser's EventSource cannot send the Authorization header. Reconnects
// from the last event id it saw, so no change is missed or applied twice.
// A hidden page (navigated away from, possibly kept in the back/forward
// cache) lets go of its stream: browsers allow six HTTP/1.1 connections per
// host, and frozen pages holding streams would starve the visible one.
// 410 Gone (the change log no longer reaches back to the revision, or the
// hub's history was replaced) ends the watch and calls onGone: the caller
// lists again and watches from the new list's revision.
import { token } from './session.js';

function parseBlock(block) {
  let id = '';
  let event = 'message';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('id: ')) id = line.slice(4);
    else if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data += line.slice(6);
  }
  return { id, event, data };
}

export function watch({ since, zone, kind, onChange, onState, onGone }) {
  let last = since;
  let stopped = false;
  let gone = false;
  let ctrl = null;
  let running = false;
  const url = () =>
    `/v1/watch?since=${encodeURIComponent(last)}` +
    (zone ? `&zone=${encodeURIComponent(zone)}` : '') +
    (kind ? `&kind=${kind}` : '');

  async function follow(signal) {
    const res = await fetch(url(), {
      headers: { Authorization: `Bearer ${token()}` },
      signal,
      cache: 'no-store',
      credentials: 'omit',
    });
    if (res.status === 410) {
      gone = true;
      return;
    }
    if (!res.ok) throw new Error(`watch: HTTP ${res.status}`);
    onState && onState('live');
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const { id, event, data } = parseBlock(buf.slice(0, end));
        buf = buf.slice(end + 2);
        if (event === 'change' && data) {
          if (id) last = id;
          onChange(JSON.parse(data));
        }
      }
    }
  }

  async function loop() {
    if (running) return;
    running = true;
    while (!stopped && !document.hidden) {
      ctrl = new AbortController();
      try {
        await follow(ctrl.signal);
      } catch {
        // Reconnect below unless stopped or hidden.
      }
      if (gone) {
        stopped = true;
        onState && onState('gone');
        onGone && onGone();
        break;
      }
      if (stopped || ctrl.signal.aborted) break;
      onState && onState('reconnecting');
      await new Promise((r) => setTimeout(r, 1000));
    }
    running = false;
  }

  const hide = () => ctrl && ctrl.abort();
  const show = () => {
    if (!stopped) loop();
  };
  const onVisibility = () => (document.hidden ? hide() : show());
  window.addEventListener('pagehide', hide);
  window.addEventListener('pageshow', show);
  document.addEventListener('visibilitychange', onVisibility);
  loop();
  return () => {
    stopped = true;
    hide();
    window.removeEventListener('pagehide', hide);
    window.removeEventListener('pageshow', show);
    document.removeEventListener('visibilitychange', onVisibility);
  };
}
