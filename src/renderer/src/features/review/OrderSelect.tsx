// The queue order in the filter bar: image order, or the CLIP score of the scoring model lowest first
// (the likeliest wrong pseudo-labels) or highest first. Without any stored score in the workspace the
// score orders would be image order in disguise, so they are disabled until "Score all" has run.
import { Select, Tooltip } from '@mantine/core';
import { useRef } from 'react';
import { IconArrowsSort } from '@tabler/icons-react';
import type { ReviewOrder } from '#shared/review/types';
import { useQuery } from '@tanstack/react-query';
import { reviewQueries } from '../../lib/queries';

const LABEL: Record<ReviewOrder, string> = {
  image: 'image',
  'score-asc': 'lowest score first',
  'score-desc': 'highest score first',
};

export function OrderSelect({
  value,
  onChange,
}: {
  value: ReviewOrder | undefined;
  onChange: (o: ReviewOrder | undefined) => void;
}): React.JSX.Element {
  // The whole workspace, not the filtered queue: whether scores exist at all. Stale while a score job
  // runs, and when the library changes (lib/queries.ts).
  const coverage = useQuery(reviewQueries.scoreCoverage({}));
  // Unknown while loading: keep them enabled rather than flash a disabled state.
  const input = useRef<HTMLInputElement>(null);
  const noScores = coverage.data !== undefined && coverage.data.scored === 0;
  return (
    <Tooltip label={'No CLIP scores yet: run "Score all" first to order by score.'} disabled={!noScores}>
      <Select
        aria-label="Order"
        w={196}
        allowDeselect={false}
        leftSection={<IconArrowsSort size={14} />}
        data={(['image', 'score-asc', 'score-desc'] as const).map((o) => ({
          value: o,
          label: `Order: ${LABEL[o]}`,
          disabled: o !== 'image' && noScores,
        }))}
        value={value ?? 'image'}
        onChange={(v) => onChange(v === null || v === 'image' ? undefined : (v as ReviewOrder))}
        ref={input}
        // The desk ignores keys typed into inputs: let go of focus so j / k walk the new order at once.
        onOptionSubmit={() => setTimeout(() => input.current?.blur(), 0)}
        data-testid="filter-order"
      />
    </Tooltip>
  );
}
