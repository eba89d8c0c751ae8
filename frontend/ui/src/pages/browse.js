// Browse one kind with filters; the filters and the page live in the URL (shareable, and the
// browser's Back button returns to the previous page of results).
import { useState } from "preact/hooks";
import { queryString } from "../api.js";
import {
  EntityLink,
  ErrorBox,
  LineageLink,
  Loading,
  formatTime,
  isoToLocalInput,
  localInputToIso,
  useApi,
} from "../components.js";
import { html } from "../html.js";
import { Link, navigate } from "../router.js";

const TEXT_FILTERS = [
  ["type", "Type", "e.g. Dataset"],
  ["name", "Name starts with", ""],
  ["source_uri", "Source URI starts with", "s3://bucket/path/"],
];
const PARAMS = [
  "type",
  "name",
  "source_uri",
  "created_after",
  "created_before",
  "sort",
  "order",
  "q",
];

function filtersFromQuery(query) {
  const filters = {};
  for (const key of PARAMS) filters[key] = query.get(key) ?? "";
  filters.property = query.getAll("property");
  return filters;
}

function FilterForm({ kind, filters }) {
  const [draft, setDraft] = useState({
    ...filters,
    created_after: isoToLocalInput(filters.created_after),
    created_before: isoToLocalInput(filters.created_before),
    property: filters.property.length ? filters.property : [""],
  });
  const set = (key) => (event) => setDraft({ ...draft, [key]: event.currentTarget.value });
  const setProperty = (index) => (event) => {
    const property = [...draft.property];
    property[index] = event.currentTarget.value;
    setDraft({ ...draft, property });
  };
  const submit = (event) => {
    event.preventDefault();
    const params = {
      ...draft,
      created_after: localInputToIso(draft.created_after),
      created_before: localInputToIso(draft.created_before),
      property: draft.property.map((p) => p.trim()).filter(Boolean),
    };
    navigate(`/ui/${kind.plural}${queryString(params)}`);
  };
  return html`<form class="filters" onSubmit=${submit} aria-label=${`Filter ${kind.plural}`}>
    ${TEXT_FILTERS.map(
      ([key, label, placeholder]) => html`<div class="field" key=${key}>
        <label for=${`f-${key}`}>${label}</label>
        <input id=${`f-${key}`} value=${draft[key]} placeholder=${placeholder}
          onInput=${set(key)} />
      </div>`,
    )}
    <div class="field">
      <label for="f-created_after">Created after (UTC)</label>
      <input id="f-created_after" type="datetime-local" step="1" value=${draft.created_after}
        onInput=${set("created_after")} />
    </div>
    <div class="field">
      <label for="f-created_before">Created before (UTC)</label>
      <input id="f-created_before" type="datetime-local" step="1" value=${draft.created_before}
        onInput=${set("created_before")} />
    </div>
    ${draft.property.map(
      (value, index) => html`<div class="field" key=${`p${index}`}>
        <label for=${`f-property-${index}`}>Property (key:value)</label>
        <input id=${`f-property-${index}`} value=${value} placeholder="framework:xgboost"
          onInput=${setProperty(index)} />
      </div>`,
    )}
    <div class="field">
      <label for="f-sort">Sort by</label>
      <select id="f-sort" value=${draft.sort || "created"} onChange=${set("sort")}>
        <option value="created">Creation time</option>
        <option value="name">Name</option>
      </select>
    </div>
    <div class="field">
      <label for="f-order">Order</label>
      <select id="f-order" value=${draft.order || "desc"} onChange=${set("order")}>
        <option value="desc">Descending</option>
        <option value="asc">Ascending</option>
      </select>
    </div>
    <div class="buttons">
      <button type="button" class="secondary"
        onClick=${() => setDraft({ ...draft, property: [...draft.property, ""] })}>
        Add a property filter
      </button>
      <button type="submit">Apply filters</button>
      <${Link} href=${`/ui/${kind.plural}`} class="button secondary">Clear<//>
    </div>
  </form>`;
}

function ResultsTable({ kind, items }) {
  return html`<table class="results">
    <caption class="visually-hidden">${kind.label}</caption>
    <thead>
      <tr>
        <th scope="col">Name</th><th scope="col">Type</th><th scope="col">Source URI</th>
        ${kind.kind === "action" && html`<th scope="col">Status</th>`}
        <th scope="col">Created</th><th scope="col">Lineage</th>
      </tr>
    </thead>
    <tbody>
      ${items.map(
        (item) => html`<tr key=${item.arn}>
          <td><${EntityLink} entity=${item} /></td>
          <td>${item.type ?? "—"}</td>
          <td class="uri">${item.source_uri ?? "—"}</td>
          ${kind.kind === "action" && html`<td>${item.status ?? "—"}</td>`}
          <td class="nowrap">${formatTime(item.created)}</td>
          <td><${LineageLink} arn=${item.arn}>View lineage<//></td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

export function BrowsePage({ kind, query }) {
  const filters = filtersFromQuery(query);
  const nextToken = query.get("next_token") ?? "";
  const params = { kind: kind.kind, ...filters, next_token: nextToken, max_results: 50 };
  const { data, error, loading } = useApi("entities", params);
  const filtered = PARAMS.some((key) => filters[key]) || filters.property.length > 0;
  const here = { ...filters };
  return html`<main class="browse">
    <h1>${kind.label}</h1>
    <${FilterForm} key=${query.toString()} kind=${kind} filters=${filters} />
    ${loading && html`<${Loading} what=${`Loading ${kind.plural}`} />`}
    ${error && html`<${ErrorBox} error=${error} />`}
    ${data &&
    (data.items.length === 0
      ? html`<div class="empty-state">
          <p>${filtered
            ? `No ${kind.plural} match these filters.`
            : `No ${kind.plural} recorded yet. Run \`mllineage demo\` for a sample pipeline.`}</p>
        </div>`
      : html`<${ResultsTable} kind=${kind} items=${data.items} />`)}
    <nav class="pager" aria-label="Pages">
      ${nextToken && html`<${Link} href=${`/ui/${kind.plural}${queryString(here)}`}>First page<//>`}
      ${data?.next_token &&
      html`<${Link} href=${`/ui/${kind.plural}${queryString({ ...here, next_token: data.next_token })}`}
        rel="next">Next page<//>`}
    </nav>
  </main>`;
}
