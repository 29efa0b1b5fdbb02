// The library as a sparse array: pages of `images:list` are fetched only when the grid shows them,
// cached (bounded), and dropped when the filter changes. `total` comes with every page and sizes the
// scroll height, so a 100,000-image library costs a few pages of memory, never a full listing.
import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import type { InvokeArg } from '#shared/contract';
import type { ImageSummary } from '#shared/library/types';
import { invoke } from '../../lib/api';
import { errorMessage } from '../../lib/hooks';

export const PAGE_SIZE = 200;
/** About 10,000 summaries; older pages are fetched again if the user scrolls back to them. */
const MAX_CACHED_PAGES = 50;
/** A fast scroll passes many pages; only the ones still wanted when a slot frees up are fetched. */
const MAX_IN_FLIGHT = 3;

export type ImageFilterArg = Omit<InvokeArg<'images:list'>, 'offset' | 'limit'>;

/** One filter's pages. A new filter gets a new pager, so a late answer can never land in the wrong list. */
class ImagePager {
  total: number | null = null;
  error: string | null = null;
  version = 0;
  private pages = new Map<number, ImageSummary[]>();
  /** Pages shown while the library changed: kept on screen until their refetch lands. */
  private stale = new Set<number>();
  /** Pages whose fetch failed: not retried in a loop, only after `invalidate`. */
  private failed = new Set<number>();
  private inFlight = new Map<number, Promise<void>>();
  private wanted: number[] = [0];
  private listeners = new Set<() => void>();
  private active = false;

  constructor(private readonly filter: ImageFilterArg) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getVersion = (): number => this.version;

  start(): void {
    this.active = true;
    this.pump();
  }

  stop(): void {
    this.active = false;
  }

  get = (index: number): ImageSummary | undefined =>
    this.pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];

  /** The grid shows [start, end): fetch what is missing there, and nothing else. */
  want = (start: number, end: number): void => {
    const first = Math.floor(Math.max(0, start) / PAGE_SIZE);
    const last = Math.floor(Math.max(0, end - 1) / PAGE_SIZE);
    const pages: number[] = [];
    for (let p = first; p <= last; p++) pages.push(p);
    this.wanted = pages;
    this.pump();
  };

  /** The item at `index`, fetching its page when needed (keyboard navigation past the loaded range). */
  fetchIndex = async (index: number): Promise<ImageSummary | undefined> => {
    const page = Math.floor(index / PAGE_SIZE);
    if (!this.pages.has(page)) await this.fetchPage(page);
    return this.get(index);
  };

  /** The library changed: refetch what is on screen, forget the rest. */
  invalidate = (): void => {
    const onScreen = new Set(this.wanted);
    for (const page of [...this.pages.keys()]) if (!onScreen.has(page)) this.pages.delete(page);
    this.stale = onScreen;
    this.failed.clear();
    this.pump();
  };

  private changed(): void {
    this.version++;
    for (const l of this.listeners) l();
  }

  private pump(): void {
    if (!this.active) return;
    for (const page of this.wanted) {
      if (this.inFlight.size >= MAX_IN_FLIGHT) return;
      const fresh = this.pages.has(page) && !this.stale.has(page);
      if (fresh || this.inFlight.has(page) || this.failed.has(page)) continue;
      void this.fetchPage(page);
    }
  }

  private fetchPage(page: number): Promise<void> {
    const existing = this.inFlight.get(page);
    if (existing) return existing;
    const p = invoke('images:list', { ...this.filter, offset: page * PAGE_SIZE, limit: PAGE_SIZE })
      .then(
        (res) => {
          this.pages.delete(page);
          this.pages.set(page, res.items);
          this.stale.delete(page);
          while (this.pages.size > MAX_CACHED_PAGES) this.pages.delete(this.pages.keys().next().value!);
          this.total = res.total;
          this.error = null;
        },
        (err: unknown) => {
          this.failed.add(page);
          this.error = errorMessage(err);
        },
      )
      .finally(() => {
        this.inFlight.delete(page);
        if (!this.active) return;
        this.changed();
        this.pump();
      });
    this.inFlight.set(page, p);
    return p;
  }
}

export interface PagedImages {
  /** Matching images, or null until the first page arrived. */
  total: number | null;
  error: string | null;
  /** Bumped whenever a page lands, so renders that read `get` see new data. */
  version: number;
  get(index: number): ImageSummary | undefined;
  want(start: number, end: number): void;
  fetchIndex(index: number): Promise<ImageSummary | undefined>;
  invalidate(): void;
}

export function usePagedImages(filter: ImageFilterArg, filterKey: string): PagedImages {
  const [current, setCurrent] = useState(() => ({ key: filterKey, pager: new ImagePager(filter) }));
  let pager = current.pager;
  if (current.key !== filterKey) {
    pager = new ImagePager(filter);
    setCurrent({ key: filterKey, pager });
  }
  useEffect(() => {
    pager.start();
    return () => pager.stop();
  }, [pager]);
  const version = useSyncExternalStore(pager.subscribe, pager.getVersion);
  return useMemo(
    () => ({
      total: pager.total,
      error: pager.error,
      version,
      get: pager.get,
      want: pager.want,
      fetchIndex: pager.fetchIndex,
      invalidate: pager.invalidate,
    }),
    [pager, version],
  );
}
