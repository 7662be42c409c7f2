// The console's shell: sign-in gate, navigation and the page routes. Every
// page has its own URL, so any view can be bookmarked or shared.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { LocationProvider, Router, Route, useLocation } from 'preact-iso';
import { session, signIn, signOut } from './session.js';
import { useSignal } from './state.js';
import { probeCapabilities } from './caps.js';
import { SignIn } from './pages/SignIn.jsx';
import { Zones, ZoneCreate } from './pages/Zones.jsx';
import { Zone } from './pages/Zone.jsx';
import { ObjectPage, ObjectCreate } from './pages/ObjectPage.jsx';
import { History } from './pages/History.jsx';
import { Tokens } from './pages/Tokens.jsx';
import { Explain } from './pages/Explain.jsx';
import './style.css';

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no page here. <a href="/zones">Go to the zones</a>.
      </p>
    </section>
  );
}

function Shell() {
  const s = useSignal(session);
  const loc = useLocation();
  const [error, setError] = useState('');
  const onSignIn = loc.path === '/signin';
  useEffect(() => {
    if (!s.token && !onSignIn) {
      loc.route(`/signin?next=${encodeURIComponent(loc.url)}`, true);
    } else if (s.token && !s.caps && !onSignIn) {
      probeCapabilities()
        .then((caps) => signIn(s.token, caps))
        .catch((e) => {
          if (e.status !== 401) return setError(e.message);
          signOut();
          loc.route(`/signin?next=${encodeURIComponent(loc.url)}`, true);
        });
    }
  }, [s.token, s.caps, onSignIn]);
  // After a navigation inside the console, keyboard and screen reader
  // users start at the new page's content, not on a link that is gone.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const main = document.getElementById('main');
    if (main && !main.contains(document.activeElement)) main.focus({ preventScroll: true });
  }, [loc.path]);
  if (onSignIn) return <SignIn />;
  if (!s.token) return null;
  if (!s.caps) return <main id="main">{error ? <p role="alert">{error}</p> : <p>Loading…</p>}</main>;
  const here = (p) => (loc.path === p || loc.path.startsWith(p + '/') ? 'page' : undefined);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/zones">
          causeway
        </a>
        <nav aria-label="Main">
          <a href="/zones" aria-current={here('/zones')}>
            Zones
          </a>
          <a href="/history" aria-current={here('/history')}>
            History
          </a>
          {s.caps.admin && (
            <a href="/tokens" aria-current={here('/tokens')}>
              Tokens
            </a>
          )}
        </nav>
        <span class="who">{s.caps.admin ? 'admin' : s.caps.write ? 'editor' : 'read-only'}</span>
        <button
          class="link"
          onClick={() => {
            signOut();
            loc.route('/signin');
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Router>
          <Route path="/" component={Zones} />
          <Route path="/zones" component={Zones} />
          <Route path="/zones/new" component={ZoneCreate} />
          <Route path="/zones/:zone" component={Zone} />
          <Route path="/zones/:zone/explain" component={Explain} />
          <Route path="/zones/:zone/:kind/new" component={ObjectCreate} />
          <Route path="/zones/:zone/:kind/:name" component={ObjectPage} />
          <Route path="/history" component={History} />
          <Route path="/tokens" component={Tokens} />
          <Route default component={NotFound} />
        </Router>
      </main>
    </>
  );
}

render(
  <LocationProvider>
    <Shell />
  </LocationProvider>,
  document.getElementById('app'),
);
