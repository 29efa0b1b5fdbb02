// Small data hooks over the typed API: one call with loading/error state, and event subscriptions.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Channel, EventMap, EventName, InvokeArg, InvokeResults } from '../../../shared/contract';
import { ApiCallError, invoke, subscribe } from './api';

export interface Query<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** The user-facing message of any failure: the server's own words when it sent some. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiCallError) return err.error.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Calls `channel` with `arg` and keeps the last answer. `key` says when the argument changed (objects
 * are new on every render, so the caller names what matters). Stale answers are dropped; nothing is
 * called while `enabled` is false.
 */
export function useInvoke<C extends Channel>(
  channel: C,
  arg: InvokeArg<C>,
  key = '',
  enabled = true,
): Query<InvokeResults[C]> {
  const [tick, setTick] = useState(0);
  const request = `${channel}|${key}|${tick}`;
  // The answer remembers which request it answers: `loading` is derived, and the last data stays on
  // screen while a reload runs.
  const [answer, setAnswer] = useState<{
    request: string;
    data: InvokeResults[C] | undefined;
    error: string | null;
  }>({
    request: '',
    data: undefined,
    error: null,
  });
  const argRef = useRef(arg);
  // Declared before the fetching effect, so that effect reads this render's argument.
  useEffect(() => {
    argRef.current = arg;
  });
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    invoke(channel, argRef.current).then(
      (value) => {
        if (live) setAnswer({ request, data: value, error: null });
      },
      (err: unknown) => {
        if (live) setAnswer((a) => ({ request, data: a.data, error: errorMessage(err) }));
      },
    );
    return () => {
      live = false;
    };
  }, [channel, request, enabled]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: answer.data, error: answer.error, loading: enabled && answer.request !== request, reload };
}

/** Subscribes for the component's lifetime; the latest listener is always the one called. */
export function useEvent<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): void {
  const ref = useRef(listener);
  useEffect(() => {
    ref.current = listener;
  });
  useEffect(() => subscribe(event, (p) => ref.current(p)), [event]);
}

/**
 * Calls `fn` at most once per `ms`, always with a trailing call so the last event is never lost.
 * Imports emit many events per second; the views only need to catch up a few times a second.
 */
export function useThrottled(fn: () => void, ms: number): () => void {
  const fnRef = useRef(fn);
  useEffect(() => {
    fnRef.current = fn;
  });
  const state = useRef<{ last: number; timer: ReturnType<typeof setTimeout> | null }>({
    last: 0,
    timer: null,
  });
  useEffect(
    () => () => {
      if (state.current.timer) clearTimeout(state.current.timer);
    },
    [],
  );
  return useCallback(() => {
    const s = state.current;
    if (s.timer) return;
    const wait = Math.max(0, s.last + ms - Date.now());
    s.timer = setTimeout(() => {
      s.timer = null;
      s.last = Date.now();
      fnRef.current();
    }, wait);
  }, [ms]);
}
