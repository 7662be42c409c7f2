// The signed-in token lives in sessionStorage: it is gone when the tab
// closes and is never a cookie. What the token may do is learned by asking
// the API (a token list for admins, a dry-run write for editors), so the
// console shows no control the server would refuse.
import { signal } from './state.js';

const KEY = 'causeway.token';
export const session = signal({ token: sessionStorage.getItem(KEY) || '', caps: null });

export const token = () => session.value.token;

export function signIn(t, caps) {
  sessionStorage.setItem(KEY, t);
  session.set({ token: t, caps });
}

export function signOut() {
  sessionStorage.removeItem(KEY);
  session.set({ token: '', caps: null });
}

export function onUnauthenticated() {
  // While signing in (no capabilities yet) the sign-in form reports it.
  if (!session.value.token || !session.value.caps) return;
  signOut();
  location.assign(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
}
