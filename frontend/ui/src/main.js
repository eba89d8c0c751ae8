// The mllineage web UI: one page shell, client-side routes (see router.js), data from /ui/api.
import "./style.css";
import { render } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { api, whenSignedOut } from "./api.js";
import { ErrorBox, KINDS, Loading } from "./components.js";
import { html } from "./html.js";
import { BrowsePage } from "./pages/browse.js";
import { EntityPage } from "./pages/entity.js";
import { HomePage } from "./pages/home.js";
import { LineagePage } from "./pages/lineage.js";
import { LoginPage } from "./pages/login.js";
import { Link, navigate, useLocation } from "./router.js";

function loginUrl() {
  const here = window.location.pathname + window.location.search;
  return `/ui/login?next=${encodeURIComponent(here)}`;
}

function Header({ session, onSignOut }) {
  const { path } = useLocation();
  const current = (href) => (path === href ? "page" : undefined);
  return html`<header class="top">
    <${Link} href="/ui/" class="brand" aria-current=${current("/ui/")}>mllineage<//>
    <nav aria-label="Main" hidden=${session?.auth && !session.signed_in}>
      ${KINDS.map(
        ({ plural, label }) =>
          html`<${Link} key=${plural} href=${`/ui/${plural}`} aria-current=${current(`/ui/${plural}`)}
            >${label}<//
          >`,
      )}
    </nav>
    <div class="account">
      ${session?.auth && session.signed_in
        ? html`<span class="muted" title=${`account ${session.account_id}`}
              >${session.access_key_id}</span
            >
            <button type="button" class="secondary" onClick=${onSignOut}>Sign out</button>`
        : null}
    </div>
  </header>`;
}

function NotFoundPage() {
  return html`<main>
    <${ErrorBox}
      error=${{ status: 404, code: "NotFound", message: `no page at ${window.location.pathname}` }}
    />
  </main>`;
}

function route(path, query, session, setSession) {
  const kind = KINDS.find(({ plural }) => path === `/ui/${plural}`);
  if (path === "/ui/" || path === "/ui") return html`<${HomePage} />`;
  if (path === "/ui/login") {
    return html`<${LoginPage} session=${session} setSession=${setSession} query=${query} />`;
  }
  if (kind) return html`<${BrowsePage} key=${kind.kind} kind=${kind} query=${query} />`;
  if (path === "/ui/entity") return html`<${EntityPage} query=${query} />`;
  if (path === "/ui/lineage") return html`<${LineagePage} query=${query} />`;
  return html`<${NotFoundPage} />`;
}

function App() {
  const { path, query } = useLocation();
  const [session, setSession] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    api.session().then(setSession, setError);
    whenSignedOut(() => {
      setSession((previous) => previous && { ...previous, signed_in: false, csrf_token: null });
      if (window.location.pathname !== "/ui/login") navigate(loginUrl(), { replace: true });
    });
  }, []);

  const signOut = useCallback(async () => {
    try {
      // The CSRF token comes from GET /ui/api/session (memory only, never stored).
      const fresh = await api.session();
      await api.signOut(fresh.csrf_token);
    } catch (failure) {
      if (failure.code !== "NotSignedIn") {
        setError(failure);
        return;
      }
    }
    setSession(await api.session().catch(() => null));
    navigate("/ui/login");
  }, []);

  const mustSignIn = session?.auth && !session.signed_in && path !== "/ui/login";
  useEffect(() => {
    if (mustSignIn) navigate(loginUrl(), { replace: true });
  }, [mustSignIn]);

  let body;
  if (error) body = html`<main><${ErrorBox} error=${error} /></main>`;
  // Data pages need not wait for the session: the server refuses them without one (and then
  // whenSignedOut() above goes to the sign-in page); only the sign-in page needs it.
  else if (!session && path === "/ui/login") body = html`<main><${Loading} /></main>`;
  else if (mustSignIn) body = html`<main><${Loading} /></main>`;
  else body = route(path, query, session, setSession);

  return html`<a class="skip" href="#content">Skip to content</a>
    <${Header} session=${session} onSignOut=${signOut} />
    <div id="content" tabindex="-1">${body}</div>
    <footer class="muted">mllineage ${session?.version ?? ""}</footer>`;
}

performance.mark("ui:script");
render(html`<${App} />`, document.getElementById("app"));
