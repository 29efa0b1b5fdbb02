// The queue's filter bar: status, source, dataset, split, identity, score range, caption length, text search,
// "has dropped rounds", the queue order (image, or CLIP score lowest / highest first); how much of the queue is scored (and "Score all"); saved filters by name; and bulk accept/reject of the filtered set, confirmed
// with its count (the server refuses if the set changed since).
import {
  ActionIcon,
  Button,
  Checkbox,
  Chip,
  Group,
  Menu,
  Modal,
  NumberInput,
  Select,
  Text,
  TextInput,
  Tooltip,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconBookmark, IconFilterOff, IconSearch, IconTrash, IconUser } from '@tabler/icons-react';
import { memo, useEffect, useState } from 'react';
import type { CaptionSource, CaptionStatus } from '#shared/library/types';
import type { ReviewFilter } from '#shared/review/types';
import { CAPTION_STATUSES, SPLITS } from '#shared/library/types';
import { asDatasetId } from '#shared/ids';
import { invoke } from '../../lib/api';
import { formatCount } from '../../lib/format';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../../lib/hooks';
import { libraryQueries, reviewQueries } from '../../lib/queries';
import { useInvalidate } from '../../lib/serverState';
import { OrderSelect } from './OrderSelect';
import { ScoreCoverage } from './ScoreCoverage';

const STATUS_LABEL: Record<CaptionStatus, string> = {
  pending: 'Pending',
  accepted: 'Accepted',
  rejected: 'Rejected',
  flagged: 'Flagged',
};
const SOURCE_LABEL: Record<CaptionSource, string> = {
  mtg: 'Generated',
  edited: 'Edited',
  human: 'Dataset',
};
/** Generated first: what the desk is for. */
const SOURCES: readonly CaptionSource[] = ['mtg', 'edited', 'human'];

/** A text box that applies on Enter, on blur, or after a pause; keyed by its applied value from outside. */
function LazyText(props: {
  value: string;
  onApply: (v: string) => void;
  placeholder: string;
  icon: React.ReactNode;
  w: number;
  testId: string;
}): React.JSX.Element {
  const { value, onApply } = props;
  const [draft, setDraft] = useState(value);
  useEffect(() => {
    if (draft.trim() === value) return;
    const t = setTimeout(() => onApply(draft.trim()), 350);
    return () => clearTimeout(t);
  }, [draft, value, onApply]);
  return (
    <TextInput
      aria-label={props.placeholder}
      placeholder={props.placeholder}
      leftSection={props.icon}
      w={props.w}
      value={draft}
      onChange={(e) => setDraft(e.currentTarget.value)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') onApply(draft.trim());
        e.stopPropagation();
      }}
      onBlur={() => onApply(draft.trim())}
      data-testid={props.testId}
    />
  );
}

const num = (v: string | number): number | undefined =>
  v === '' || Number.isNaN(Number(v)) ? undefined : Number(v);

/** Memoised: the desk re-renders on every move, the filter bar only when the filter or count changes. */
export const ReviewFilters = memo(function ReviewFilters({
  filter,
  onChange,
  total,
  reviewer,
  onBulkDone,
}: {
  filter: ReviewFilter;
  onChange: (f: ReviewFilter) => void;
  total: number | null;
  reviewer: string;
  onBulkDone: () => void;
}): React.JSX.Element {
  const datasets = useQuery(libraryQueries.datasets());
  const saved = useQuery(reviewQueries.savedFilters());
  const invalidate = useInvalidate();
  const [bulk, setBulk] = useState<'accept' | 'reject' | null>(null);
  const [saving, setSaving] = useState<string | null>(null);
  // A filter kept from another workspace (the desk remembers the last one) may name a dataset this one
  // lacks: drop it rather than show an empty queue behind a blank dataset box.
  const known = datasets.data;
  useEffect(() => {
    if (known && filter.datasetId !== undefined && !known.some((d) => d.id === filter.datasetId)) {
      const { datasetId: _gone, ...rest } = filter;
      onChange(rest);
    }
  }, [known, filter, onChange]);
  const set = (patch: Partial<ReviewFilter>): void => {
    const next: ReviewFilter = { ...filter, ...patch };
    for (const k of Object.keys(next) as (keyof ReviewFilter)[])
      if (next[k] === undefined || next[k] === '') delete next[k];
    onChange(next);
  };

  const runBulk = async (): Promise<void> => {
    if (!bulk || total === null) return;
    try {
      const r = await invoke('review:bulk', { filter, decision: bulk, expected: total, reviewer });
      notifications.show({
        color: 'teal',
        message: `${bulk === 'accept' ? 'Accepted' : 'Rejected'} ${formatCount(r.changed)} captions. Undo (u) reverses it.`,
      });
      onBulkDone();
    } catch (err) {
      notifications.show({ color: 'red', title: 'Bulk action not applied', message: errorMessage(err) });
      onBulkDone();
    }
    setBulk(null);
  };

  return (
    <Group gap="xs" align="flex-end" wrap="wrap" data-testid="review-filters">
      <Chip.Group
        multiple
        value={filter.statuses ?? []}
        onChange={(v) => set({ statuses: v.length ? (v as CaptionStatus[]) : undefined })}
      >
        <Group gap={4}>
          {CAPTION_STATUSES.map((s) => (
            <Chip key={s} value={s} size="xs" variant="light" data-testid={`filter-status-${s}`}>
              {STATUS_LABEL[s]}
            </Chip>
          ))}
        </Group>
      </Chip.Group>
      <Chip.Group
        multiple
        value={filter.sources ?? []}
        onChange={(v) => set({ sources: v.length ? SOURCES.filter((s) => v.includes(s)) : undefined })}
      >
        <Group gap={4} pl={6} style={{ borderLeft: '1px solid var(--mantine-color-default-border)' }}>
          {SOURCES.map((s) => (
            <Chip key={s} value={s} size="xs" variant="light" data-testid={`filter-source-${s}`}>
              {SOURCE_LABEL[s]}
            </Chip>
          ))}
        </Group>
      </Chip.Group>
      <Select
        aria-label="Dataset"
        placeholder="All datasets"
        w={160}
        clearable
        data={(datasets.data ?? []).map((d) => ({ value: String(d.id), label: d.name }))}
        value={filter.datasetId === undefined ? null : String(filter.datasetId)}
        onChange={(v) => set({ datasetId: v ? asDatasetId(Number(v)) : undefined })}
      />
      <Select
        aria-label="Split"
        placeholder="All splits"
        w={120}
        clearable
        data={[...SPLITS.map((s) => ({ value: s, label: s })), { value: 'none', label: 'no split' }]}
        value={filter.split ?? null}
        onChange={(v) => set({ split: (v ?? undefined) as ReviewFilter['split'] })}
      />
      <LazyText
        key={`p${filter.personId ?? ''}`}
        value={filter.personId ?? ''}
        onApply={(v) => set({ personId: v || undefined })}
        placeholder="Person id"
        icon={<IconUser size={14} />}
        w={120}
        testId="filter-person"
      />
      <LazyText
        key={`t${filter.text ?? ''}`}
        value={filter.text ?? ''}
        onApply={(v) => set({ text: v || undefined })}
        placeholder="Text in caption"
        icon={<IconSearch size={14} />}
        w={160}
        testId="filter-text"
      />
      <NumberInput
        aria-label="Fewest words"
        placeholder="min words"
        // No step buttons: they took a third of the box and cut the placeholder (arrow keys still step).
        hideControls
        w={112}
        min={0}
        value={filter.minWords ?? ''}
        onChange={(v) => set({ minWords: num(v) })}
        onKeyDown={(e) => e.stopPropagation()}
      />
      <NumberInput
        aria-label="Most words"
        placeholder="max words"
        hideControls
        w={112}
        min={0}
        value={filter.maxWords ?? ''}
        onChange={(v) => set({ maxWords: num(v) })}
        onKeyDown={(e) => e.stopPropagation()}
      />
      <NumberInput
        aria-label="Lowest score"
        placeholder="min score"
        hideControls
        w={112}
        step={0.01}
        decimalScale={3}
        min={-1}
        max={1}
        value={filter.scoreMin ?? ''}
        onChange={(v) => set({ scoreMin: num(v) })}
        onKeyDown={(e) => e.stopPropagation()}
      />
      <NumberInput
        aria-label="Highest score"
        placeholder="max score"
        hideControls
        w={112}
        step={0.01}
        decimalScale={3}
        min={-1}
        max={1}
        value={filter.scoreMax ?? ''}
        onChange={(v) => set({ scoreMax: num(v) })}
        onKeyDown={(e) => e.stopPropagation()}
      />
      <OrderSelect value={filter.order} onChange={(order) => set({ order })} />
      <Checkbox
        label="Has dropped rounds"
        size="xs"
        mb={8}
        checked={filter.hasDroppedRounds ?? false}
        onChange={(e) => set({ hasDroppedRounds: e.currentTarget.checked || undefined })}
        data-testid="filter-dropped"
      />
      <Tooltip label="Clear filters: every caption">
        <ActionIcon variant="default" size="lg" aria-label="Clear filters" onClick={() => onChange({})}>
          <IconFilterOff size={16} />
        </ActionIcon>
      </Tooltip>
      <Menu position="bottom-end" withinPortal>
        <Menu.Target>
          <Button variant="default" leftSection={<IconBookmark size={14} />} data-testid="saved-filters">
            Saved
          </Button>
        </Menu.Target>
        <Menu.Dropdown>
          <Menu.Item onClick={() => setSaving('')}>Save this filter…</Menu.Item>
          {(saved.data ?? []).length > 0 && <Menu.Divider />}
          {(saved.data ?? []).map((s) => (
            <Menu.Item
              key={s.id}
              onClick={() => onChange(s.filter)}
              rightSection={
                <ActionIcon
                  size="xs"
                  variant="subtle"
                  color="red"
                  aria-label={`Delete ${s.name}`}
                  onClick={(e) => {
                    e.stopPropagation();
                    void invoke('review:deleteFilter', { id: s.id }).then(() => invalidate('review:filters'));
                  }}
                >
                  <IconTrash size={12} />
                </ActionIcon>
              }
            >
              {s.name}
            </Menu.Item>
          ))}
        </Menu.Dropdown>
      </Menu>
      <Group gap={4} ml="auto">
        <Text size="sm" c="dimmed" data-testid="review-queue-count">
          {total === null ? '…' : `${formatCount(total)} in queue`}
        </Text>
        <Text size="sm" c="dimmed" aria-hidden>
          ·
        </Text>
        <ScoreCoverage filter={filter} />
        <Button
          size="xs"
          variant="light"
          color="teal"
          disabled={!total}
          onClick={() => setBulk('accept')}
          data-testid="bulk-accept"
        >
          Accept all…
        </Button>
        <Button
          size="xs"
          variant="light"
          color="red"
          disabled={!total}
          onClick={() => setBulk('reject')}
          data-testid="bulk-reject"
        >
          Reject all…
        </Button>
      </Group>

      <Modal
        opened={bulk !== null}
        onClose={() => setBulk(null)}
        title={
          bulk === 'accept' ? 'Accept every caption in this queue?' : 'Reject every caption in this queue?'
        }
      >
        <Text size="sm" mb="md" data-testid="bulk-confirm-text">
          {bulk === 'accept' ? 'Accept' : 'Reject'} {formatCount(total ?? 0)} captions that match the current
          filter. Each decision is recorded, and one undo reverses them all.
        </Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={() => setBulk(null)}>
            Cancel
          </Button>
          <Button
            color={bulk === 'accept' ? 'teal' : 'red'}
            onClick={() => void runBulk()}
            data-testid="bulk-confirm"
          >
            {bulk === 'accept' ? 'Accept' : 'Reject'} {formatCount(total ?? 0)}
          </Button>
        </Group>
      </Modal>
      <Modal opened={saving !== null} onClose={() => setSaving(null)} title="Save filter">
        <TextInput
          label="Name"
          data-autofocus
          value={saving ?? ''}
          onChange={(e) => setSaving(e.currentTarget.value)}
          onKeyDown={(e) => e.stopPropagation()}
          data-testid="save-filter-name"
        />
        <Group justify="flex-end" mt="md">
          <Button
            disabled={!saving?.trim()}
            onClick={() => {
              void invoke('review:saveFilter', { name: saving!.trim(), filter }).then(
                () => {
                  invalidate('review:filters');
                  setSaving(null);
                },
                (err: unknown) => notifications.show({ color: 'red', message: errorMessage(err) }),
              );
            }}
            data-testid="save-filter"
          >
            Save
          </Button>
        </Group>
      </Modal>
    </Group>
  );
});
