// Sign-in: the secret goes to the server once, in the POST body; the browser keeps only the
// server's HttpOnly session cookie (the page never stores or re-reads the secret).
import { useRef, useState } from "preact/hooks";
import { api } from "../api.js";
import { html } from "../html.js";
import { navigate, safeNext } from "../router.js";

export function LoginPage({ session, setSession, query }) {
  const next = safeNext(query.get("next"));
  const [accessKeyId, setAccessKeyId] = useState("");
  const [secret, setSecret] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const secretInput = useRef(null);

  if (!session.auth) {
    return html`<main class="narrow">
      <h1>Sign in</h1>
      <p>This server runs without authentication (<code>--no-auth</code>): everything is open.</p>
      <p><a href=${next} onClick=${(e) => (e.preventDefault(), navigate(next))}>Continue</a></p>
    </main>`;
  }

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const signedIn = await api.signIn(accessKeyId.trim(), secret);
      setSecret("");
      setBusy(false);
      setSession(signedIn);
      navigate(next, { replace: true });
    } catch (failure) {
      setSecret("");
      setError(failure);
      setBusy(false);
      // Back to the secret, so a keyboard user can type it again at once.
      secretInput.current?.focus();
    }
  };

  return html`<main class="narrow">
    <h1>Sign in to mllineage</h1>
    ${session.signed_in &&
    html`<p class="notice">You are signed in as <code>${session.access_key_id}</code>.
      Signing in again replaces that session.</p>`}
    <p>Use an access key ID and secret access key that this server accepts (the ones your SDK
      signs its requests with).</p>
    <form class="stacked" onSubmit=${submit}>
      <label for="access-key-id">Access key ID</label>
      <input id="access-key-id" name="access_key_id" autocomplete="username" required
        autofocus value=${accessKeyId} onInput=${(e) => setAccessKeyId(e.currentTarget.value)} />
      <label for="secret-access-key">Secret access key</label>
      <input id="secret-access-key" name="secret_access_key" type="password" required
        ref=${secretInput}
        autocomplete="off" value=${secret} onInput=${(e) => setSecret(e.currentTarget.value)} />
      ${error &&
      html`<p class="error-inline" role="alert">
        ${error.code === "BadCredentials"
          ? "That access key ID and secret do not match a key this server accepts."
          : error.message}
      </p>`}
      <button type="submit" disabled=${busy}>${busy ? "Signing in…" : "Sign in"}</button>
    </form>
  </main>`;
}
