// The window's one cache of server answers (TanStack Query) and the one subscriber that turns the
// server's events into invalidations, by the rules in queries.ts. Imports emit many events a second;
// the channels they make stale are gathered and invalidated at most once a second, the last event
// never lost.
import { keepPreviousData, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useState } from 'react';
import type { Channel } from '#shared/contract';
import { subscribe } from './api';
import { mergeJob } from './jobList';
import { jobQueries } from './queries';
import { staleAfter } from './staleRules';

const THROTTLE_MS = 1000;

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // A failure is shown at once, in the server's words (a retry would only delay it), and a view
        // keeps its last answer on screen while the next one loads (a new query, a refetch).
        retry: false,
        refetchOnWindowFocus: false,
        placeholderData: keepPreviousData,
      },
    },
  });
}

/** The query client, and the caches that are not queries (the library's sparse pages) by channel. */
interface ServerState {
  client: QueryClient;
  listeners: Map<Channel, Set<() => void>>;
}
const ServerStateContext = createContext<ServerState | null>(null);

function useServerState(): ServerState {
  const state = useContext(ServerStateContext);
  if (!state) throw new Error('Server state needs a ServerStateProvider above it.');
  return state;
}

function markStale(state: ServerState, channels: Iterable<Channel>): void {
  for (const channel of channels) {
    void state.client.invalidateQueries({ queryKey: [channel] });
    for (const listener of state.listeners.get(channel) ?? []) listener();
  }
}

function useServerEvents(state: ServerState): void {
  useEffect(() => {
    const pending = new Set<Channel>();
    let timer: ReturnType<typeof setTimeout> | null = null;
    let last = 0;
    const gather = (channels: readonly Channel[]): void => {
      if (channels.length === 0) return;
      for (const c of channels) pending.add(c);
      if (timer) return;
      timer = setTimeout(
        () => {
          timer = null;
          last = Date.now();
          const now = [...pending];
          pending.clear();
          markStale(state, now);
        },
        Math.max(0, last + THROTTLE_MS - Date.now()),
      );
    };
    const offLibrary = subscribe('library:changed', (p) => gather(staleAfter('library:changed', p)));
    const jobs = jobQueries.list().queryKey;
    const offJobs = subscribe('jobs:progress', (job) => {
      // The job list is the event's own payload: put in at once, not refetched.
      state.client.setQueryData(jobs, (list) => mergeJob(list ?? [], job));
      gather(staleAfter('jobs:progress', job));
    });
    return () => {
      offLibrary();
      offJobs();
      if (timer) clearTimeout(timer);
    };
  }, [state]);
}

export function ServerStateProvider({ children }: { children: React.ReactNode }): React.JSX.Element {
  const [state] = useState<ServerState>(() => ({ client: createQueryClient(), listeners: new Map() }));
  useServerEvents(state);
  return (
    <ServerStateContext.Provider value={state}>
      <QueryClientProvider client={state.client}>{children}</QueryClientProvider>
    </ServerStateContext.Provider>
  );
}

/** For a view's own writes: the answers of these channels are stale now (refetched if on screen). */
export function useInvalidate(): (...channels: Channel[]) => void {
  const state = useServerState();
  return useCallback((...channels: Channel[]) => markStale(state, channels), [state]);
}

/** Calls `listener` whenever `channel`'s answers go stale, for a cache kept outside the query client. */
export function useStale(channel: Channel, listener: () => void): void {
  const { listeners } = useServerState();
  useEffect(() => {
    let set = listeners.get(channel);
    if (!set) listeners.set(channel, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }, [listeners, channel, listener]);
}
