// One MTI search as the panel sees it: the saved search (transcript + re-ranked rows), the live round
// while `mti:start` or an analyst's step runs (from `mti:progress`), and the actions. Only one call runs
// at a time; the search's id is known from the first progress event, so Cancel works before the start
// call has answered.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { DatasetId, ModelId } from '#shared/ids';
import type { MtiAction, MtiParams, MtiProgress, MtiSearch } from '#shared/mti/types';
import { invoke } from '../../lib/api';
import { errorMessage, useEvent } from '../../lib/hooks';
import { useInvalidate } from '../../lib/serverState';

export interface LiveStep {
  phase: MtiProgress['phase'];
  round: MtiProgress['round'];
  at: number;
}

export interface MtiState {
  search: MtiSearch | null;
  /** What is running now, in words ("Asking the MLLM…"), or null. */
  busy: string | null;
  /** The latest live steps of the running call, newest last. */
  live: LiveStep[];
  error: string | null;
  start: (arg: {
    modelId: ModelId;
    datasetId?: DatasetId;
    query: string;
    endpoint?: string;
    params?: Partial<MtiParams>;
    /** Footage: rank (and show the MLLM) only these cameras' crops in this time range. */
    footage?: { cameras?: string[]; fromMs?: number; toMs?: number };
  }) => Promise<MtiSearch | null>;
  step: (action: MtiAction, round?: number) => Promise<void>;
  open: (id: number) => Promise<void>;
  cancel: () => void;
  clear: () => void;
}

export function useMtiSearch(onSaved?: (s: MtiSearch) => void): MtiState {
  const [search, setSearch] = useState<MtiSearch | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [live, setLive] = useState<LiveStep[]>([]);
  const [error, setError] = useState<string | null>(null);
  // The search the running call works on: set by the first progress event of a start.
  const runningId = useRef<number | null>(null);
  const awaitingStart = useRef(false);
  const invalidate = useInvalidate();
  const savedRef = useRef(onSaved);
  useEffect(() => {
    savedRef.current = onSaved;
  });

  useEvent('mti:progress', (p) => {
    if (runningId.current === null && awaitingStart.current) runningId.current = p.searchId;
    if (p.searchId !== runningId.current) return;
    setLive((l) => [...l.slice(-40), { phase: p.phase, round: p.round, at: Date.now() }]);
  });

  const run = useCallback(
    async (what: string, id: number | null, call: () => Promise<MtiSearch>): Promise<MtiSearch | null> => {
      runningId.current = id;
      setBusy(what);
      setLive([]);
      setError(null);
      try {
        const s = await call();
        setSearch(s);
        savedRef.current?.(s);
        return s;
      } catch (err) {
        setError(errorMessage(err));
        return null;
      } finally {
        // A start or a step saved (or failed to finish) a search: the saved list is stale either way.
        invalidate('searches:list');
        awaitingStart.current = false;
        runningId.current = null;
        setBusy(null);
      }
    },
    [invalidate],
  );

  const start: MtiState['start'] = useCallback(
    (arg) => {
      awaitingStart.current = true;
      setSearch(null);
      return run('Ranking the gallery and asking the MLLM about the top candidates…', null, () =>
        invoke('mti:start', {
          modelId: arg.modelId,
          datasetId: arg.datasetId,
          query: arg.query,
          // One endpoint for both roles when the analyst picks one; else the service's default per role.
          vqaEndpoint: arg.endpoint,
          aggregatorEndpoint: arg.endpoint,
          params: arg.params ?? {},
          ...arg.footage,
        }),
      );
    },
    [run],
  );

  const step: MtiState['step'] = useCallback(
    async (action, round) => {
      if (!search) return;
      const words: Record<MtiAction['kind'], string> = {
        'reject-anchor': 'Looking for another anchor…',
        'pick-anchor': 'Asking the questions about the picked anchor…',
        answer: 'Rewriting q̂ with your answer…',
        'edit-refined': 'Re-ranking with your q̂…',
        'next-round': 'Running another round…',
        back: 'Going back one step…',
      };
      await run(words[action.kind], search.id, () => invoke('mti:step', { id: search.id, action, round }));
    },
    [run, search],
  );

  const open = useCallback(async (id: number) => {
    setError(null);
    try {
      setSearch(await invoke('searches:get', { id }));
    } catch (err) {
      setError(errorMessage(err));
    }
  }, []);

  const cancel = useCallback(() => {
    const id = runningId.current;
    if (id !== null) void invoke('mti:cancel', { id }).catch(() => undefined);
  }, []);

  const clear = useCallback(() => {
    setSearch(null);
    setError(null);
    setLive([]);
  }, []);

  return { search, busy, live, error, start, step, open, cancel, clear };
}
