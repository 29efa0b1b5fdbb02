// The footage filters the Search page's tabs share: cameras by name and a wall-clock range (UTC), and
// whether results show by crop or grouped by track. They live in the URL (`cameras`, `from`, `to`,
// `group`), so the plain ranking and MTI's conversation filter the same way and a link keeps them.
import { Group, MultiSelect, SegmentedControl, TextInput } from '@mantine/core';
import { useMemo } from 'react';
import { useQuery } from '@tanstack/react-query';
import { footageQueries } from '../queries';
import type { FootageFilter } from './filter';
import { fromInput, toInput } from './format';

export { passesFootageFilter, tracksOfRows, type FootageFilter } from './filter';

/** The filter the route's `params` hold; `setParams` writes it back (the router's). */
export function useFootageFilter(
  params: URLSearchParams,
  setParams: (p: Record<string, string | undefined>) => void,
): FootageFilter {
  const footage = useQuery(footageQueries.folders());
  const cameraNames = [...new Set((footage.data ?? []).flatMap((f) => f.cameras.map((c) => c.name)))].sort();
  const cameraList = params.get('cameras') ?? '';
  // One array per value of the parameter, so memos keyed on it hold between renders.
  const cameras = useMemo(() => cameraList.split(',').filter(Boolean), [cameraList]);
  const fromMs = fromInput(params.get('from') ?? '');
  const toMs = fromInput(params.get('to') ?? '');
  return {
    cameraNames,
    cameras,
    fromMs,
    toMs,
    byTrack: params.get('group') === 'tracks',
    filtered: cameras.length > 0 || fromMs !== undefined || toMs !== undefined,
    set: (p) =>
      setParams({
        ...('cameras' in p ? { cameras: p.cameras?.length ? p.cameras.join(',') : undefined } : {}),
        ...('from' in p ? { from: p.from || undefined } : {}),
        ...('to' in p ? { to: p.to || undefined } : {}),
        ...('byTrack' in p ? { group: p.byTrack ? 'tracks' : undefined } : {}),
      }),
  };
}

export function FootageFilters({ filter }: { filter: FootageFilter }): React.JSX.Element | null {
  if (filter.cameraNames.length === 0) return null;
  return (
    <Group gap="sm" align="flex-end" data-testid="footage-filters">
      <MultiSelect
        label="Cameras"
        placeholder={filter.cameras.length ? undefined : 'All cameras'}
        data={filter.cameraNames}
        value={filter.cameras}
        onChange={(v) => filter.set({ cameras: v })}
        clearable
        w={280}
        size="xs"
        data-testid="filter-cameras"
      />
      <TextInput
        label="From (UTC)"
        type="datetime-local"
        step={1}
        size="xs"
        value={toInput(filter.fromMs)}
        onChange={(e) => filter.set({ from: e.currentTarget.value })}
        data-testid="filter-from"
      />
      <TextInput
        label="To (UTC)"
        type="datetime-local"
        step={1}
        size="xs"
        value={toInput(filter.toMs)}
        onChange={(e) => filter.set({ to: e.currentTarget.value })}
        data-testid="filter-to"
      />
      <SegmentedControl
        size="xs"
        data={[
          { value: 'crops', label: 'Crops' },
          { value: 'tracks', label: 'By track' },
        ]}
        value={filter.byTrack ? 'tracks' : 'crops'}
        onChange={(v) => filter.set({ byTrack: v === 'tracks' })}
        data-testid="search-group"
      />
    </Group>
  );
}
