// One entity: its fields, properties, tags, who made and changed it, its direct inputs and
// outputs (links), and its history.
import {
  EntityLink,
  ErrorBox,
  KeyValueTable,
  KindBadge,
  LineageLink,
  Loading,
  formatTime,
  formatUser,
  useApi,
} from "../components.js";
import { html } from "../html.js";

function Neighbours({ title, items, empty }) {
  return html`<section class="card">
    <h2>${title} <span class="count">${items.length}</span></h2>
    ${items.length === 0
      ? html`<p class="muted">${empty}</p>`
      : html`<ul class="neighbours">
          ${items.map(
            (item) => html`<li key=${item.arn + item.association_type}>
              <${KindBadge} kind=${item.kind} /> <${EntityLink} entity=${item} />
              <span class="muted"> ${item.type ?? ""} · ${item.association_type}</span>
            </li>`,
          )}
        </ul>`}
  </section>`;
}

function History({ arn }) {
  const { data, error, loading } = useApi("history", { arn });
  if (loading) return html`<${Loading} what="Loading the history" />`;
  if (error) return html`<p class="muted">History unavailable: ${error.message}</p>`;
  if (data.events.length === 0) return html`<p class="muted">No recorded changes.</p>`;
  return html`<table class="results">
    <thead>
      <tr><th scope="col">When</th><th scope="col">Operation</th><th scope="col">By</th>
        <th scope="col">Changes</th></tr>
    </thead>
    <tbody>
      ${data.events.map(
        (event, index) => html`<tr key=${index}>
          <td class="nowrap">${formatTime(event.at)}</td>
          <td>${event.operation}</td>
          <td>${formatUser(event.by)}</td>
          <td class="changes">${event.summary ??
          (Object.keys(event.changes ?? {}).length
            ? html`<code>${JSON.stringify(event.changes)}</code>`
            : "—")}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

export function EntityPage({ query }) {
  const arn = query.get("arn") ?? "";
  const { data, error, loading } = useApi("entity", arn ? { arn } : null);
  if (!arn) {
    return html`<main><${ErrorBox}
      error=${{ status: 400, code: "MissingArn", message: "the address names no entity (?arn=…)" }}
    /></main>`;
  }
  if (loading) return html`<main><${Loading} /></main>`;
  if (error) return html`<main><${ErrorBox} error=${error} /></main>`;
  const e = data;
  const fields = {
    ARN: e.arn,
    Type: e.type ?? "—",
    "Source URI": e.source_uri ?? "—",
    Status: e.status ?? "—",
    Description: e.description ?? "—",
    Created: formatTime(e.created),
    "Created by": formatUser(e.created_by),
    "Last modified": formatTime(e.last_modified),
    "Last modified by": formatUser(e.last_modified_by),
  };
  return html`<main class="entity">
    <div class="title-row">
      <h1><${KindBadge} kind=${e.kind} /> ${e.name || e.arn}</h1>
      <${LineageLink} arn=${e.arn}>Explore lineage<//>
    </div>
    <div class="columns">
      <section class="card">
        <h2>Fields</h2>
        <${KeyValueTable} values=${fields} />
        ${Object.keys(e.extra ?? {}).length > 0 && html`<${KeyValueTable} values=${e.extra} />`}
      </section>
      <section class="card">
        <h2>Properties</h2>
        <${KeyValueTable} values=${e.properties} empty="No properties." />
        <h2>Tags</h2>
        <${KeyValueTable} values=${e.tags} empty="No tags." />
      </section>
    </div>
    <div class="columns">
      <${Neighbours} title="Inputs" items=${e.inputs} empty="Nothing flows into it." />
      <${Neighbours} title="Outputs" items=${e.outputs} empty="Nothing flows out of it." />
    </div>
    <section class="card">
      <h2>History</h2>
      <${History} arn=${e.arn} />
    </section>
  </main>`;
}
