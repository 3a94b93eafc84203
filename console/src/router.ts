/**
 * A small history router for /console/*: the service answers index.html for every path under /console, so each
 * page has its own URL (bookmarkable, Back works). Links are real <a href>s: keyboard, middle-click and screen
 * readers behave as everywhere.
 */
import { useEffect, useState } from "preact/hooks";

export const BASE = "/console";

export interface Location {
  /** The path below /console, e.g. "/sessions/ses_…" ("/" for the overview). */
  path: string;
  query: URLSearchParams;
}

const listeners = new Set<() => void>();
let moved = false;

/**
 * Whether the user has moved from the page they loaded: only then does a new page move focus to its heading (on a
 * fresh load focus stays at the top, so the first Tab reaches the skip link).
 */
export const hasNavigated = () => moved;

function current(): Location {
  const raw = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) : "/";
  return { path: raw === "" ? "/" : raw, query: new URLSearchParams(window.location.search) };
}

export function href(path: string, query?: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v) params.set(k, v);
  const qs = params.toString();
  return `${BASE}${path === "/" ? "/" : path}${qs ? `?${qs}` : ""}`;
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  moved = true;
  if (opts.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  for (const listener of listeners) listener();
}

window.addEventListener("popstate", () => {
  moved = true;
  for (const listener of listeners) listener();
});

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return location;
}

/** Same-document navigation for plain left clicks on console links; anything else is the browser's. */
export function onLinkClick(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = (event.target as Element | null)?.closest?.("a");
  if (!anchor || anchor.target || anchor.origin !== window.location.origin || !anchor.pathname.startsWith(BASE)) return;
  event.preventDefault();
  navigate(anchor.pathname + anchor.search);
}
