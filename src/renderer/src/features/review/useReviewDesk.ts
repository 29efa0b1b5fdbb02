// The desk's state: the item on screen, its neighbours fetched ahead (records and images), and the
// actions. Moving on must feel instant, so the next and previous items of whatever is shown are
// requested as soon as it is shown, and their full-size images decoded into the browser's cache.
import { notifications } from '@mantine/notifications';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { CaptionStatus } from '#shared/library/types';
import type { ReviewDecision, ReviewFilter, ReviewItem } from '#shared/review/types';
import type { CaptionId } from '#shared/ids';
import { ApiCallError, imageUrl, invoke } from '../../lib/api';
import { errorMessage } from '../../lib/hooks';

type Direction = 'next' | 'prev';

export interface Desk {
  item: ReviewItem | null;
  /** First load or a move that had to wait for the server. */
  loading: boolean;
  /** The end of the queue was reached in this direction. */
  atEnd: Direction | null;
  error: string | null;
  /** Another window changed this caption: the message, until reloaded. */
  conflict: string | null;
  busy: boolean;
  go(direction: Direction, unreviewed?: boolean): Promise<void>;
  decide(decision: ReviewDecision): Promise<void>;
  edit(text: string, status: CaptionStatus): Promise<void>;
  undo(): Promise<void>;
  reload(): Promise<void>;
  /** The filter changed or a bulk action ran: start again from the first item. */
  restart(): Promise<void>;
}

const keyOf = (d: Direction, unreviewed: boolean, from: number): string =>
  `${d}:${unreviewed ? 'u' : 'a'}:${from}`;

/** Keeps decoded images referenced, so the browser does not drop them before they are shown. */
const preloaded = new Map<number, HTMLImageElement>();
function preload(item: ReviewItem | null): void {
  if (!item || preloaded.has(item.image.id)) return;
  const img = new Image();
  img.src = imageUrl(item.image.id, 'full');
  void img.decode().catch(() => undefined);
  preloaded.set(item.image.id, img);
  if (preloaded.size > 24) preloaded.delete(preloaded.keys().next().value!);
}

export function useReviewDesk(
  filter: ReviewFilter,
  filterKey: string,
  reviewer: string,
  startAt: CaptionId | null,
  onShow: (id: CaptionId) => void,
): Desk {
  const [item, setItem] = useState<ReviewItem | null>(null);
  const [loading, setLoading] = useState(true);
  const [atEnd, setAtEnd] = useState<Direction | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [conflict, setConflict] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const cache = useRef(new Map<string, Promise<ReviewItem | null>>());
  // Key presses are applied in order, each once the previous one has finished: a fast reviewer's
  // "r u" rejects and then undoes, and never loses the u because the reject was still in flight.
  const chain = useRef<Promise<unknown>>(Promise.resolve());
  const queued = useRef(0);
  const serial = useCallback(<T>(fn: () => Promise<T>): Promise<T> => {
    queued.current++;
    setBusy(true);
    const run = chain.current.then(fn);
    chain.current = run
      .catch(() => undefined)
      .finally(() => {
        if (--queued.current === 0) setBusy(false);
      });
    return run;
  }, []);
  const itemRef = useRef<ReviewItem | null>(null);
  const filterRef = useRef(filter);
  const onShowRef = useRef(onShow);
  useEffect(() => {
    filterRef.current = filter;
    onShowRef.current = onShow;
  });

  const neighbor = useCallback(
    (d: Direction, unreviewed: boolean, from: number | undefined): Promise<ReviewItem | null> => {
      const key = from === undefined ? null : keyOf(d, unreviewed, from);
      const hit = key ? cache.current.get(key) : undefined;
      if (hit) return hit;
      const p = invoke('review:neighbor', { filter: filterRef.current, from, direction: d, unreviewed });
      if (key) {
        cache.current.set(key, p);
        // A failed prefetch must not stick.
        p.catch(() => cache.current.delete(key));
      }
      return p;
    },
    [],
  );

  const prefetch = useCallback(
    (shown: ReviewItem) => {
      for (const [d, u] of [
        ['next', false],
        ['next', true],
        ['prev', false],
      ] as const) {
        void neighbor(d, u, shown.caption.id).then(preload, () => undefined);
      }
    },
    [neighbor],
  );

  const show = useCallback(
    (next: ReviewItem) => {
      itemRef.current = next;
      setItem(next);
      setAtEnd(null);
      setConflict(null);
      setError(null);
      onShowRef.current(next.caption.id);
      prefetch(next);
    },
    [prefetch],
  );

  /** After a change to `changed`, only what was fetched *from* it can still be trusted. */
  const invalidate = useCallback((changed: number) => {
    for (const key of [...cache.current.keys()])
      if (key.split(':')[2] !== String(changed)) cache.current.delete(key);
  }, []);

  const fail = useCallback((err: unknown) => {
    if (err instanceof ApiCallError && err.error.code === 'conflict') setConflict(err.error.message);
    else notifications.show({ color: 'red', title: 'That did not work', message: errorMessage(err) });
  }, []);

  const goNow = useCallback(
    async (d: Direction, unreviewed = false, after?: number) => {
      const from = after ?? itemRef.current?.caption.id;
      const key = from === undefined ? null : keyOf(d, unreviewed, from);
      const ready = key !== null && cache.current.has(key);
      if (!ready) setLoading(true);
      try {
        const next = await neighbor(d, unreviewed, from);
        if (next) show(next);
        else setAtEnd(d);
      } catch (err) {
        fail(err);
      } finally {
        setLoading(false);
      }
    },
    [neighbor, show, fail],
  );

  const go = useCallback(
    (d: Direction, unreviewed = false) => serial(() => goNow(d, unreviewed)),
    [serial, goNow],
  );

  const mutate = useCallback(
    (run: (current: ReviewItem) => Promise<ReviewItem>, thenNext: boolean) =>
      serial(async () => {
        const current = itemRef.current;
        if (!current) return;
        try {
          const updated = await run(current);
          invalidate(current.caption.id);
          // Go on from the place in the queue that was on screen. An edit is a new caption: in image
          // order it keeps its image's place, but in a score order it has a score of its own (or none
          // yet), so going on from it would skip to another part of the queue.
          const byScore = filterRef.current.order === 'score-asc' || filterRef.current.order === 'score-desc';
          if (thenNext) await goNow('next', false, byScore ? current.caption.id : updated.caption.id);
        } catch (err) {
          fail(err);
        }
      }),
    [serial, invalidate, goNow, fail],
  );

  const decide = useCallback(
    (decision: ReviewDecision) =>
      mutate(async (c) => {
        const updated = await invoke('review:decide', {
          captionId: c.caption.id,
          version: c.caption.version,
          decision,
          reviewer,
        });
        itemRef.current = updated;
        setItem(updated);
        return updated;
      }, decision !== 'reset'),
    [mutate, reviewer],
  );

  const edit = useCallback(
    (text: string, status: CaptionStatus) =>
      mutate(async (c) => {
        const updated = await invoke('review:edit', {
          captionId: c.caption.id,
          version: c.caption.version,
          text,
          status,
          reviewer,
        });
        itemRef.current = updated;
        setItem(updated);
        return updated;
      }, true),
    [mutate, reviewer],
  );

  const undo = useCallback(
    () =>
      serial(async () => {
        try {
          const r = await invoke('review:undo', { reviewer });
          cache.current.clear();
          if (r.item) show(r.item);
          notifications.show({
            color: r.undone ? 'indigo' : 'gray',
            message: r.undone ?? 'Nothing to undo.',
            autoClose: 2500,
          });
        } catch (err) {
          fail(err);
        }
      }),
    [serial, reviewer, show, fail],
  );

  const reload = useCallback(async () => {
    const current = itemRef.current;
    if (!current) return;
    cache.current.clear();
    try {
      show(await invoke('review:item', { captionId: current.caption.id }));
    } catch (err) {
      fail(err);
    }
  }, [show, fail]);

  const restart = useCallback(async () => {
    cache.current.clear();
    itemRef.current = null;
    setLoading(true);
    try {
      const first = await neighbor('next', false, undefined);
      if (first) show(first);
      else {
        setItem(null);
        setAtEnd('next');
      }
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setLoading(false);
    }
  }, [neighbor, show]);

  // First load, and whenever the filter changes: the caption in the URL if given, else the first.
  const startRef = useRef(startAt);
  useEffect(() => {
    const at = startRef.current;
    startRef.current = null;
    if (at !== null) {
      setLoading(true);
      invoke('review:item', { captionId: at }).then(
        (it) => {
          show(it);
          setLoading(false);
        },
        () => void restart(),
      );
    } else void restart();
  }, [filterKey, restart, show]);

  return {
    item,
    loading,
    atEnd,
    error,
    conflict,
    busy,
    go,
    decide,
    edit,
    undo,
    reload,
    restart,
  };
}
