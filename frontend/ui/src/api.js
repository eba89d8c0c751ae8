// The server's JSON API under /ui/api (see the web UI contract). Errors arrive as
// {"error": {"code", "message"}} with a 4xx status; they become ApiError here.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// A query string from an object; arrays repeat the parameter, empty values are left out.
export function queryString(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null && item !== "") search.append(key, String(item));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// Called with the error whenever the server says the session is missing or over.
let onSignedOut = () => {};
export function whenSignedOut(handler) {
  onSignedOut = handler;
}

async function request(method, path, { params = {}, body, headers = {} } = {}) {
  let response;
  try {
    response = await fetch(`/ui/api/${path}${queryString(params)}`, {
      method,
      headers: body === undefined ? headers : { "Content-Type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch (error) {
    throw new ApiError(0, "NetworkError", `the server did not answer (${error.message})`);
  }
  if (response.status === 204) return null;
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    // not JSON: handled below
  }
  if (!response.ok) {
    const error = payload?.error ?? {};
    const failure = new ApiError(
      response.status,
      error.code ?? `HTTP${response.status}`,
      error.message ?? `the server answered ${response.status} ${response.statusText}`,
    );
    if (failure.code === "NotSignedIn") onSignedOut(failure);
    throw failure;
  }
  if (payload === null) {
    throw new ApiError(response.status, "BadResponse", "the server's answer was not JSON");
  }
  return payload;
}

export const api = {
  get: (path, params) => request("GET", path, { params }),
  session: () => request("GET", "session"),
  signIn: (accessKeyId, secretAccessKey) =>
    request("POST", "session", {
      body: { access_key_id: accessKeyId, secret_access_key: secretAccessKey },
    }),
  signOut: (csrfToken) =>
    request("DELETE", "session", { headers: { "X-CSRF-Token": csrfToken ?? "" } }),
};

// The URL of a CLI-format export of a lineage view (a download served by the server).
export function exportUrl(params, format) {
  return `/ui/api/export${queryString({ ...params, format })}`;
}
