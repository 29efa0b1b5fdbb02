// The Search page's "Conversation" tab: MTI's re-ranked grid beside its transcript. A search starts when
// the analyst presses the button (each one costs MLLM calls, so never on its own); its id goes into the
// URL, so a reload or a link reopens the saved search with its transcript. Footage crops show with their
// camera and time, filtered by the page's camera/time filter and grouped by track when the analyst asks.
import { Badge, Button, Center, EmptyState, Group, Select, Stack, Text } from '@mantine/core';
import { IconHistory, IconMessageChatbot, IconSearchOff } from '@tabler/icons-react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { DatasetId, ImageId, ModelId } from '#shared/ids';
import type { MtiAction } from '#shared/mti/types';
import { useQuery } from '@tanstack/react-query';
import { endpointQueries } from '../../lib/queries';
import { ImageDrawer } from '../library/ImageDrawer';
import { FrameViewer } from '../../lib/footage/FrameViewer';
import { TrackResults } from '../../lib/footage/TrackResults';
import { passesFootageFilter, tracksOfRows, type FootageFilter } from '../../lib/footage/filters';
import { useGridSelection } from '../../lib/useGridSelection';
import { MtiResultGrid } from './MtiResultGrid';
import { MtiSettings, useMtiParams } from './MtiSettings';
import { MtiTranscript } from './MtiTranscript';
import { SavedSearches } from './SavedSearches';
import { useMtiSearch } from './useMtiSearch';
import classes from './Mti.module.css';

export function MtiView({
  modelId,
  datasetId,
  query,
  draft,
  onAsk,
  searchId,
  startNonce,
  onSearchId,
  footageFilter,
}: {
  modelId: ModelId;
  datasetId: DatasetId | undefined;
  /** The description searched for (the URL's). */
  query: string;
  /** What the search box holds now: the button in the middle offers to ask about it. */
  draft: string;
  /** Does what the page's own button does: makes the box's text the query and starts a search. */
  onAsk: () => void;
  /** The saved search the URL names, if any. */
  searchId: number | undefined;
  /** Bumped by the page's button on this tab (or `onAsk`): start a new search for `query`. */
  startNonce: number;
  onSearchId: (id: number | undefined) => void;
  /** The page's camera/time filter and grouping, applied to the re-ranked rows. */
  footageFilter: FootageFilter;
}): React.JSX.Element {
  const mti = useMtiSearch((s) => onSearchId(s.id));
  const { search, busy, start, open, clear } = mti;
  const [savedOpen, setSavedOpen] = useState(false);
  const endpoints = useQuery(endpointQueries.list());
  const [endpoint, setEndpoint] = useState<string | null>(null);
  const [params, setParams] = useMtiParams();

  const started = useRef(0);
  useEffect(() => {
    if (startNonce === 0 || started.current === startNonce || query.trim() === '') return;
    started.current = startNonce;
    // The page's camera/time filter, when set, is the search's gallery: MTI ranks and asks about those
    // crops only (the rows shown are filtered again, for searches saved without it).
    const { cameras, fromMs, toMs, filtered } = footageFilter;
    const footage = filtered
      ? {
          ...(cameras.length ? { cameras } : {}),
          ...(fromMs !== undefined ? { fromMs } : {}),
          ...(toMs !== undefined ? { toMs } : {}),
        }
      : undefined;
    void start({ modelId, datasetId, query, endpoint: endpoint ?? undefined, params, footage });
  }, [startNonce, query, modelId, datasetId, start, endpoint, params, footageFilter]);

  // The URL names the search on screen: open the one it names, and leave it when the URL drops it (a link
  // to the bare tab), but not in the moment between a start's answer and the URL catching up.
  const lastUrlId = useRef(searchId);
  useEffect(() => {
    const was = lastUrlId.current;
    lastUrlId.current = searchId;
    if (busy !== null) return;
    if (searchId !== undefined && search?.id !== searchId) void open(searchId);
    else if (searchId === undefined && was !== undefined) clear();
  }, [searchId, search?.id, busy, open, clear]);

  // The box, not the URL: the text typed a moment ago is what this button would ask about.
  const asked = draft.trim();
  const allRows = search?.results;
  const { cameras, fromMs, toMs, filtered, byTrack } = footageFilter;
  const rows = useMemo(
    () => (allRows ?? []).filter((r) => passesFootageFilter(r.footage, { cameras, fromMs, toMs, filtered })),
    [allRows, cameras, fromMs, toMs, filtered],
  );
  const tracks = useMemo(() => tracksOfRows(search?.tracks ?? [], rows), [search?.tracks, rows]);
  const act = (a: MtiAction): void => void mti.step(a);
  const pick = (id: ImageId): void => act({ kind: 'pick-anchor', imageId: id });
  // The image open in the drawer, stepped through by the grid's own columns and kept on screen. A new
  // ranking (a step, another search) puts other images at the same indexes, so it closes the drawer; one
  // in the same order (the same search reopened) keeps it open.
  const order = useMemo(() => rows.map((r) => r.image.id).join(','), [rows]);
  const resolve = useCallback((index: number) => rows[index]?.image.id, [rows]);
  const { grid: gridRef, selection, selectedIndex, select, close, move } = useGridSelection(order, resolve);
  // A footage crop opens on its frame (with its box and its track); any other image in the drawer.
  const [frameOf, setFrameOf] = useState<ImageId | null>(null);
  const openRow = (index: number): void => {
    const row = rows[index];
    if (row?.footage) setFrameOf(row.image.id);
    else select(index);
  };

  const lambda = search?.transcript.params.lambda;
  const header = (
    <Group justify="space-between" gap="xs">
      <Group gap="xs">
        {search ? (
          <>
            <Text size="sm" c="dimmed" data-testid="mti-summary">
              {filtered
                ? `${rows.length} of the top ${search.results.length} in the cameras and times chosen`
                : `Top ${rows.length}`}{' '}
              by λ·S(q,v) + (1−λ)·S(q̂,v), λ = {lambda}
              {search.refined ? '' : ' (no q̂ yet: the query alone)'}
            </Text>
            <Badge
              size="sm"
              variant="light"
              color={search.status === 'done' ? 'teal' : search.status === 'fallback' ? 'orange' : 'gray'}
              data-testid="mti-status"
            >
              {search.status}
            </Badge>
          </>
        ) : (
          <Text size="sm" c="dimmed">
            Interactive search: the MLLM checks the top candidates, asks about the best one, and refines your
            words.
          </Text>
        )}
      </Group>
      <Group gap="xs">
        <Select
          size="xs"
          w={220}
          aria-label="MLLM endpoint"
          placeholder="Default MLLM endpoint"
          data={(endpoints.data ?? []).map((e) => ({ value: e.name, label: `${e.name} · ${e.model}` }))}
          value={endpoint}
          onChange={setEndpoint}
          clearable
          data-testid="mti-endpoint"
        />
        <MtiSettings params={params} onChange={setParams} />
        <Button
          size="xs"
          variant="default"
          leftSection={<IconHistory size={14} />}
          onClick={() => setSavedOpen(true)}
          data-testid="mti-saved"
        >
          Saved searches
        </Button>
      </Group>
    </Group>
  );

  let grid: React.ReactNode;
  if (search && rows.length > 0 && byTrack && tracks.length > 0)
    grid = <TrackResults tracks={tracks} results={rows} onOpen={setFrameOf} />;
  else if (search && rows.length > 0)
    grid = (
      <MtiResultGrid
        ref={gridRef}
        rows={rows}
        busy={busy !== null}
        selectedIndex={selectedIndex}
        onOpen={openRow}
        onPick={pick}
      />
    );
  else if (search && search.results.length > 0 && !busy)
    grid = (
      <Center style={{ flex: 1 }}>
        <EmptyState
          maw={440}
          icon={<IconSearchOff size={36} stroke={1.4} />}
          withIndicatorBackground
          title="No crops of those cameras and times"
          description={`None of this search's top ${search.results.length} was seen there. Widen the camera or time filter.`}
          data-testid="mti-filtered-empty"
        />
      </Center>
    );
  else
    grid = (
      <Center style={{ flex: 1 }}>
        <EmptyState
          maw={520}
          icon={<IconMessageChatbot size={36} stroke={1.4} />}
          withIndicatorBackground
          title={busy ? 'Working…' : 'Ask the MLLM to sharpen a vague description'}
          description={
            busy
              ? busy
              : 'MTI ranks the gallery for your words, asks the MLLM which top candidate really fits, asks it questions about that person, and re-ranks with a refined description. You can answer, reject or edit at every step.'
          }
          data-testid="mti-idle"
        >
          {!busy && (
            <EmptyState.Actions>
              <Button
                disabled={asked === ''}
                onClick={onAsk}
                leftSection={<IconMessageChatbot size={16} />}
                data-testid="mti-start"
              >
                {asked === ''
                  ? 'Type a description first'
                  : `Ask the MLLM about “${asked.length > 40 ? `${asked.slice(0, 40)}…` : asked}”`}
              </Button>
            </EmptyState.Actions>
          )}
        </EmptyState>
      </Center>
    );

  return (
    <Stack gap="xs" style={{ flex: 1, minHeight: 0 }}>
      {header}
      <div className={classes.layout}>
        <div className={classes.gridPane}>{grid}</div>
        <MtiTranscript
          search={search}
          busy={busy}
          live={mti.live}
          error={mti.error}
          onAct={act}
          onCancel={mti.cancel}
        />
      </div>
      <SavedSearches opened={savedOpen} onClose={() => setSavedOpen(false)} onOpen={(id) => onSearchId(id)} />
      <FrameViewer imageId={frameOf} onClose={() => setFrameOf(null)} />
      <ImageDrawer
        imageId={selection?.id ?? null}
        index={selectedIndex}
        total={rows.length}
        onClose={close}
        move={move}
      />
    </Stack>
  );
}
