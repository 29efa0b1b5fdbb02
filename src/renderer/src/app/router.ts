// Hash routing without a router dependency: `#/library?dataset=2&split=train`. The hash keeps
// browser back/forward working under `ctgi serve` and lets a test open a view by URL.
import { useCallback, useSyncExternalStore } from 'react';

export const VIEWS = ['library', 'review', 'search', 'footage', 'jobs', 'settings'] as const;
export type View = (typeof VIEWS)[number];

export interface Route {
  view: View;
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?', 2);
  const view = (VIEWS as readonly string[]).includes(path) ? (path as View) : 'library';
  return { view, params: new URLSearchParams(query) };
}

export function routeHref(view: View, params?: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined && v !== '') q.set(k, v);
  const qs = q.toString();
  return `#/${view}${qs ? `?${qs}` : ''}`;
}

const subscribeHash = (cb: () => void): (() => void) => {
  window.addEventListener('hashchange', cb);
  return () => window.removeEventListener('hashchange', cb);
};
const getHash = (): string => location.hash;

/** Goes to a route; `replace` for changes that should not make a history entry (moving a selection). */
export function navigate(href: string, opts: { replace?: boolean } = {}): void {
  if (href === location.hash) return;
  if (opts.replace) {
    history.replaceState(history.state, '', href);
    // replaceState fires no hashchange; tell the subscribers ourselves.
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else location.hash = href;
}

export function useRoute(): Route & {
  setParams: (p: Record<string, string | undefined>, replace?: boolean) => void;
} {
  const hash = useSyncExternalStore(subscribeHash, getHash);
  const route = parseHash(hash);
  const { view } = route;
  const setParams = useCallback(
    (p: Record<string, string | undefined>, replace = false) => {
      const current = Object.fromEntries(parseHash(location.hash).params);
      navigate(routeHref(view, { ...current, ...p }), { replace });
    },
    [view],
  );
  return { ...route, setParams };
}
