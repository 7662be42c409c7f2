import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { signIn, signOut, session } from '../session.js';
import { probeCapabilities } from '../caps.js';

export function SignIn() {
  const loc = useLocation();
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    const t = value.trim();
    // The probe's requests carry the token being tried.
    session.set({ token: t, caps: null });
    try {
      const caps = await probeCapabilities();
      signIn(t, caps);
      const next = loc.query.next;
      loc.route(next && next.startsWith('/') && !next.startsWith('//') ? next : '/zones');
    } catch (err) {
      signOut();
      setError(err.status === 401 ? 'The hub does not know this token.' : err.message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <main id="main" class="signin">
      <h1>Sign in to causeway</h1>
      <form onSubmit={submit}>
        <label for="token">Token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          required
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
          aria-describedby="token-help"
          aria-invalid={error ? 'true' : undefined}
        />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <div id="token-help" class="help">
        <p>
          On the hub's machine the admin token is in{' '}
          <code>~/.local/share/causeway/admin.token</code> (or <code>admin.token</code> in the
          hub's <code>--data-dir</code>): <code>cat ~/.local/share/causeway/admin.token</code>.
          Other tokens come from <code>causeway token create</code> or an admin's Tokens page.
        </p>
        <p>
          The token is kept in this tab only (session storage) and is sent in the Authorization
          header, never as a cookie.
        </p>
      </div>
    </main>
  );
}
