// Client-side routing with the History API: every view has a real, shareable URL under /ui/,
// and the server answers each of them with the same page shell.
import { html } from "./html.js";
import { useEffect, useState } from "preact/hooks";

const listeners = new Set();

function notify() {
  for (const listener of listeners) listener(currentLocation());
}
window.addEventListener("popstate", notify);

export function currentLocation() {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

// Go to a URL under /ui/ without reloading (replace: no new history entry).
export function navigate(href, { replace = false } = {}) {
  if (href === window.location.pathname + window.location.search) return;
  window.history[replace ? "replaceState" : "pushState"](null, "", href);
  window.scrollTo(0, 0);
  notify();
}

export function useLocation() {
  const [location, setLocation] = useState(currentLocation);
  useEffect(() => {
    listeners.add(setLocation);
    return () => listeners.delete(setLocation);
  }, []);
  return location;
}

// A real <a href> (open in a new tab, copy the link) that navigates in place on a plain click.
export function Link({ href, children, ...rest }) {
  const onClick = (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    navigate(href);
  };
  return html`<a href=${href} onClick=${onClick} ...${rest}>${children}</a>`;
}

// Where to go after signing in: only a path of this UI (never another site).
export function safeNext(next) {
  return typeof next === "string" && next.startsWith("/ui/") && !next.startsWith("//")
    ? next
    : "/ui/";
}
