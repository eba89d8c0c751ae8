// Pieces shared by the pages: data loading, error and empty states, entity links, times.
import { html } from "./html.js";
import { useEffect, useState } from "preact/hooks";
import { api, queryString } from "./api.js";
import { Link } from "./router.js";

export const KINDS = [
  { kind: "artifact", plural: "artifacts", label: "Artifacts" },
  { kind: "action", plural: "actions", label: "Actions" },
  { kind: "context", plural: "contexts", label: "Contexts" },
];

// GET /ui/api/<path> whenever the parameters change: {data, error, loading}.
export function useApi(path, params) {
  const key = path + queryString(params ?? {});
  const [state, setState] = useState({ data: null, error: null, loading: true });
  useEffect(() => {
    if (params === null) return undefined;
    let current = true;
    setState((previous) => ({ ...previous, loading: true, error: null }));
    api.get(path, params).then(
      (data) => current && setState({ data, error: null, loading: false }),
      (error) => current && setState({ data: null, error, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [key]);
  return state;
}

export function Loading({ what = "Loading" }) {
  return html`<p class="loading" role="status">${what}…</p>`;
}

const HINTS = {
  NotFound: "It may have been deleted, or it belongs to another account.",
  NetworkError: "Is `mllineage serve` still running?",
  NotSignedIn: "Sign in to see this page.",
};

// An API error as a readable panel: what failed, the server's message, what to do next.
export function ErrorBox({ error, title = "Something went wrong" }) {
  const hint = HINTS[error.code];
  return html`<div class="error-box" role="alert">
    <h2>${error.status === 404 ? "Not found" : title}</h2>
    <p><code>${error.code}</code> ${error.message}</p>
    ${hint && html`<p class="hint">${hint}</p>`}
    <p><${Link} href="/ui/">Back to the overview<//></p>
  </div>`;
}

export function KindBadge({ kind }) {
  return html`<span class=${`badge kind-${kind}`}>${kind}</span>`;
}

export function EntityLink({ entity }) {
  const label = entity.name || shortArn(entity.arn);
  return html`<${Link} href=${`/ui/entity${queryString({ arn: entity.arn })}`} title=${entity.arn}
    >${label}<//
  >`;
}

export function LineageLink({ arn, children = "Lineage" }) {
  return html`<${Link} href=${`/ui/lineage${queryString({ arn })}`} class="lineage-link"
    >${children}<//
  >`;
}

export function shortArn(arn) {
  return arn ? arn.slice(arn.lastIndexOf(":") + 1) : "";
}

// ISO 8601 from the server -> "2024-06-01 12:30:05 UTC" (one zone everywhere: no surprises).
export function formatTime(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

// A <input type="datetime-local"> value, read as UTC, <-> ISO 8601.
export function localInputToIso(value) {
  return value ? `${value.length === 16 ? `${value}:00` : value}Z` : "";
}
export function isoToLocalInput(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString().slice(0, 19);
}

// Who created or changed something: the server gives SageMaker's UserContext (or a string).
export function formatUser(user) {
  if (!user) return "—";
  if (typeof user === "string") return user;
  return (
    user.UserProfileName ||
    user.IamIdentity?.Arn ||
    user.UserProfileArn ||
    user.IamIdentity?.PrincipalId ||
    JSON.stringify(user)
  );
}

export function KeyValueTable({ values, empty = "None", caption }) {
  const entries = Object.entries(values ?? {});
  if (entries.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<table class="kv">
    ${caption && html`<caption>${caption}</caption>`}
    <tbody>
      ${entries.map(
        ([key, value]) =>
          html`<tr key=${key}>
            <th scope="row">${key}</th>
            <td>${typeof value === "object" ? JSON.stringify(value) : String(value)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}
