// Home: how much lineage there is per kind and type, a search box, and a way in when empty.
import { useState } from "preact/hooks";
import { queryString } from "../api.js";
import { ErrorBox, KINDS, Loading, useApi } from "../components.js";
import { html } from "../html.js";
import { Link, navigate } from "../router.js";

function SearchForm() {
  const [kind, setKind] = useState("artifacts");
  const [text, setText] = useState("");
  const submit = (event) => {
    event.preventDefault();
    const value = text.trim();
    // A pasted ARN opens the entity; anything else searches names of that kind (prefix).
    if (value.startsWith("arn:")) navigate(`/ui/entity${queryString({ arn: value })}`);
    else navigate(`/ui/${kind}${queryString({ name: value })}`);
  };
  return html`<form class="search" role="search" onSubmit=${submit}>
    <label for="search-kind" class="visually-hidden">Kind</label>
    <select id="search-kind" value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>
      ${KINDS.map(({ plural, label }) => html`<option value=${plural}>${label}</option>`)}
    </select>
    <label for="search-text" class="visually-hidden">Name starts with, or an ARN</label>
    <input
      id="search-text"
      type="search"
      placeholder="Name starts with… or paste an ARN"
      value=${text}
      onInput=${(e) => setText(e.currentTarget.value)}
      autofocus
    />
    <button type="submit">Search</button>
  </form>`;
}

function EmptyState() {
  return html`<section class="empty-state">
    <h2>No lineage recorded yet</h2>
    <p>This store holds no artifacts, actions or contexts. To see what the UI shows, record a
      sample ML pipeline run into the store this server uses:</p>
    <pre><code>mllineage demo</code></pre>
    <p>then reload this page. Your own code records lineage with the SageMaker Lineage API
      (<code>Artifact.create</code>, <code>Association.create</code>, …) against this server
      or the same store.</p>
  </section>`;
}

function KindCard({ kind, counts }) {
  const types = Object.entries(counts?.types ?? {}).sort((a, b) => b[1] - a[1]);
  return html`<section class="card" aria-labelledby=${`count-${kind.kind}`}>
    <h2 id=${`count-${kind.kind}`}>
      <${Link} href=${`/ui/${kind.plural}`}>${kind.label}<//>
      <span class="count">${(counts?.total ?? 0).toLocaleString("en")}</span>
    </h2>
    ${types.length === 0
      ? html`<p class="muted">None yet.</p>`
      : html`<ul class="types">
          ${types.map(
            ([type, count]) =>
              html`<li key=${type}>
                <${Link} href=${`/ui/${kind.plural}${queryString({ type })}`}>${type}<//>
                <span class="count">${count.toLocaleString("en")}</span>
              </li>`,
          )}
        </ul>`}
  </section>`;
}

export function HomePage() {
  const { data, error, loading } = useApi("summary", {});
  return html`<main class="home">
    <h1>Lineage overview</h1>
    <${SearchForm} />
    ${loading && html`<${Loading} />`}
    ${error && html`<${ErrorBox} error=${error} />`}
    ${data &&
    (data.empty
      ? html`<${EmptyState} />`
      : html`<div class="cards">
            ${KINDS.map(
              (kind) => html`<${KindCard} key=${kind.kind} kind=${kind} counts=${data.kinds[kind.kind]} />`,
            )}
          </div>
          <p class="muted">${data.associations.toLocaleString("en")} associations.
            Open an entity to explore its lineage.</p>`)}
  </main>`;
}
