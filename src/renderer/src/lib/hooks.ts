// Small hooks over the typed API: failures in words, event subscriptions. Server state itself
// is TanStack Query's (serverState.tsx, queries.ts).
import { useEffect, useRef } from 'react';
import type { EventMap, EventName } from '#shared/contract';
import { ApiCallError, subscribe } from './api';

/** The user-facing message of any failure: the server's own words when it sent some. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiCallError) return err.error.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Subscribes for the component's lifetime; the latest listener is always the one called. */
export function useEvent<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): void {
  const ref = useRef(listener);
  useEffect(() => {
    ref.current = listener;
  });
  useEffect(() => subscribe(event, (p) => ref.current(p)), [event]);
}
