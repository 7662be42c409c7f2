// A tiny observable value with a Preact hook, for the session and other
// app-wide state (Preact's hooks do the rendering).
import { useEffect, useState } from 'preact/hooks';

export function signal(initial) {
  const listeners = new Set();
  const s = {
    value: initial,
    set(v) {
      s.value = v;
      for (const l of listeners) l(v);
    },
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return s;
}

export function useSignal(s) {
  const [v, setV] = useState(s.value);
  useEffect(() => {
    setV(s.value);
    return s.subscribe(setV);
  }, [s]);
  return v;
}
