import { Button, Group, Select, TextInput } from '@mantine/core';
import { IconFilterOff, IconUser } from '@tabler/icons-react';
import { useEffect, useRef, useState } from 'react';
import type { Dataset } from '#shared/library/types';
import { CAPTION_FILTERS, SPLITS } from '#shared/library/types';

// A type alias, not an interface: it must fit the router's Record<string, string | undefined>.
export type FilterValues = {
  dataset?: string | undefined;
  split?: string | undefined;
  person?: string | undefined;
  captions?: string | undefined;
};

const SPLIT_OPTIONS = [
  { value: '', label: 'All splits' },
  ...SPLITS.map((s) => ({ value: s, label: s[0]!.toUpperCase() + s.slice(1) })),
  { value: 'none', label: 'No split' },
];

const CAPTION_LABEL: Record<(typeof CAPTION_FILTERS)[number], string> = {
  any: 'Any captions',
  none: 'Without captions',
  pending: 'Pending review',
  accepted: 'Accepted',
  rejected: 'Rejected',
  flagged: 'Flagged',
};

/**
 * The person-id box applies on Enter, on leaving the box, or after a short pause in typing. The parent
 * keys it by the applied value, so a change from outside (Clear, back button) starts a fresh draft.
 */
function PersonInput({
  value,
  onChange,
}: {
  value: string;
  onChange: (v: string) => void;
}): React.JSX.Element {
  const [draft, setDraft] = useState(value);
  const onChangeRef = useRef(onChange);
  useEffect(() => {
    onChangeRef.current = onChange;
  });
  useEffect(() => {
    if (draft.trim() === value) return;
    const t = setTimeout(() => onChangeRef.current(draft.trim()), 400);
    return () => clearTimeout(t);
  }, [draft, value]);
  return (
    <TextInput
      aria-label="Person id"
      placeholder="Person id"
      leftSection={<IconUser size={16} />}
      w={150}
      value={draft}
      onChange={(e) => setDraft(e.currentTarget.value)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') onChange(draft.trim());
      }}
      onBlur={() => onChange(draft.trim())}
      data-testid="filter-person"
    />
  );
}

export function LibraryFilters({
  values,
  datasets,
  onChange,
}: {
  values: FilterValues;
  datasets: Dataset[];
  onChange: (patch: FilterValues) => void;
}): React.JSX.Element {
  const active = Boolean(
    values.dataset || values.split || values.person || (values.captions && values.captions !== 'any'),
  );
  return (
    <Group gap="sm" wrap="wrap">
      <Select
        aria-label="Dataset"
        w={220}
        data={[
          { value: '', label: 'All datasets' },
          ...datasets.map((d) => ({ value: String(d.id), label: d.name })),
        ]}
        value={values.dataset ?? ''}
        onChange={(v) => onChange({ dataset: v || undefined })}
        allowDeselect={false}
        data-testid="filter-dataset"
      />
      <Select
        aria-label="Split"
        w={140}
        data={SPLIT_OPTIONS}
        value={values.split ?? ''}
        onChange={(v) => onChange({ split: v || undefined })}
        allowDeselect={false}
        data-testid="filter-split"
      />
      <PersonInput
        key={values.person ?? ''}
        value={values.person ?? ''}
        onChange={(v) => onChange({ person: v || undefined })}
      />
      <Select
        aria-label="Caption status"
        w={180}
        data={CAPTION_FILTERS.map((c) => ({ value: c, label: CAPTION_LABEL[c] }))}
        value={values.captions ?? 'any'}
        onChange={(v) => onChange({ captions: v && v !== 'any' ? v : undefined })}
        allowDeselect={false}
        data-testid="filter-captions"
      />
      {active && (
        <Button
          variant="subtle"
          color="gray"
          leftSection={<IconFilterOff size={16} />}
          onClick={() =>
            onChange({ dataset: undefined, split: undefined, person: undefined, captions: undefined })
          }
          data-testid="filter-clear"
        >
          Clear filters
        </Button>
      )}
    </Group>
  );
}
