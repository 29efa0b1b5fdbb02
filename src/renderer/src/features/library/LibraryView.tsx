import { Alert, Button, Center, EmptyState, Group, Loader, Stack, Text, Title } from '@mantine/core';
import { IconAlertTriangle, IconPhotoOff, IconPhotoPlus, IconSparkles, IconUpload } from '@tabler/icons-react';
import { useCallback, useMemo, useRef, useState } from 'react';
import type { CaptionFilter, Split } from '../../../../shared/domain';
import { CAPTION_FILTERS, SPLITS } from '../../../../shared/domain';
import type { DatasetId, ImageId } from '../../../../shared/ids';
import { useRoute } from '../../app/router';
import { formatCount } from '../../lib/format';
import { useEvent, useInvoke, useThrottled } from '../../lib/hooks';
import { MtgStartDialog } from '../mtg/MtgStartDialog';
import type { DrawerMove } from './ImageDrawer';
import { ImageDrawer } from './ImageDrawer';
import type { GridHandle } from './ImageGrid';
import { ImageGrid } from './ImageGrid';
import { ImportModal } from './ImportModal';
import type { FilterValues } from './LibraryFilters';
import { LibraryFilters } from './LibraryFilters';
import type { ImageFilterArg } from './usePagedImages';
import { usePagedImages } from './usePagedImages';

/** Filters live in the URL (`#/library?dataset=2&split=train`), so back/forward and links restore them. */
function filterFromParams(params: URLSearchParams): { values: FilterValues; arg: ImageFilterArg; key: string } {
  const values: FilterValues = {
    dataset: params.get('dataset') ?? undefined,
    split: params.get('split') ?? undefined,
    person: params.get('person') ?? undefined,
    captions: params.get('captions') ?? undefined,
  };
  const datasetId = Number(values.dataset);
  const split = values.split === 'none' || (SPLITS as readonly string[]).includes(values.split ?? '') ? values.split : undefined;
  const captions = (CAPTION_FILTERS as readonly string[]).includes(values.captions ?? '') ? values.captions : 'any';
  const arg: ImageFilterArg = {
    datasetId: Number.isInteger(datasetId) && datasetId > 0 ? (datasetId as DatasetId) : undefined,
    split: split as Split | 'none' | undefined,
    personId: values.person || undefined,
    captions: captions as CaptionFilter,
  };
  return { values, arg, key: JSON.stringify(arg) };
}

interface Selection {
  index: number;
  id: ImageId;
}

export function LibraryView(): React.JSX.Element {
  const { params, setParams } = useRoute();
  const { values, arg, key } = filterFromParams(params);
  const paged = usePagedImages(arg, key);
  const datasets = useInvoke('datasets:list', {});
  const [importOpen, setImportOpen] = useState(false);
  const [mtgOpen, setMtgOpen] = useState(false);
  const [selection, setSelection] = useState<Selection | null>(null);
  const [selectionKey, setSelectionKey] = useState(key);
  const grid = useRef<GridHandle>(null);

  // A new filter means a new list: an open selection would point at a different image.
  if (selectionKey !== key) {
    setSelectionKey(key);
    setSelection(null);
  }

  const refresh = useThrottled(() => {
    paged.invalidate();
    datasets.reload();
  }, 1000);
  useEvent('library:changed', refresh);
  // The runner announces library:changed when a job ends; while an import runs the grid grows with it.
  useEvent('jobs:progress', (job) => {
    if (job.kind === 'import' && job.status === 'running') refresh();
  });

  const total = paged.total;
  const select = useCallback(
    async (index: number) => {
      if (total === null || index < 0 || index >= total) return;
      const item = paged.get(index) ?? (await paged.fetchIndex(index));
      if (!item) return;
      setSelection({ index, id: item.id });
      grid.current?.scrollToIndex(index);
    },
    [paged, total],
  );
  const onOpen = useCallback((index: number) => void select(index), [select]);

  const selectedIndex = selection?.index ?? null;
  const move: DrawerMove = useMemo(
    () => ({
      step: (delta) => {
        if (selectedIndex === null) return;
        const cols = grid.current?.columns() ?? 1;
        const d = delta === 'row-up' ? -cols : delta === 'row-down' ? cols : delta;
        void select(selectedIndex + d);
      },
    }),
    [select, selectedIndex],
  );

  const libraryEmpty = datasets.data !== undefined && datasets.data.length === 0;
  const filtered = Boolean(arg.datasetId || arg.split || arg.personId || arg.captions !== 'any');

  let body: React.ReactNode;
  if (paged.error && total === null) {
    body = (
      <Alert color="red" icon={<IconAlertTriangle size={18} />} title="Could not load the library">
        {paged.error}
      </Alert>
    );
  } else if (libraryEmpty) {
    body = (
      <Center style={{ flex: 1 }}>
        <EmptyState
          maw={480}
          size="lg"
          variant="light"
          icon={<IconPhotoPlus size={36} stroke={1.4} />}
          title="Your library is empty"
          description="Import a folder of person crops, optionally with a CUHK-PEDES, ICFG-PEDES or RSTPReid annotation file. Images stay where they are on disk."
          data-testid="library-empty"
        >
          <EmptyState.Actions>
            <Button leftSection={<IconUpload size={16} />} onClick={() => setImportOpen(true)}>
              Import a dataset
            </Button>
          </EmptyState.Actions>
        </EmptyState>
      </Center>
    );
  } else if (total === 0) {
    body = (
      <Center style={{ flex: 1 }}>
        <EmptyState
          maw={440}
          icon={<IconPhotoOff size={36} stroke={1.4} />}
          withIndicatorBackground
          title="No images match"
          description={filtered ? 'Try a different dataset, split, person or caption status.' : 'No images yet.'}
          data-testid="library-no-match"
        />
      </Center>
    );
  } else if (total === null) {
    body = (
      <Center style={{ flex: 1 }}>
        <Loader type="dots" />
      </Center>
    );
  } else {
    body = <ImageGrid ref={grid} paged={paged} selectedIndex={selectedIndex} onOpen={onOpen} />;
  }

  return (
    <Stack gap="md" style={{ flex: 1, minHeight: 0 }}>
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Library</Title>
          <Text c="dimmed" size="sm" data-testid="library-count">
            {total === null ? 'Loading…' : `${formatCount(total)} image${total === 1 ? '' : 's'}${filtered ? ' match' : ''}`}
          </Text>
        </div>
        <Group gap="xs">
          <Button
            variant="light"
            leftSection={<IconSparkles size={16} />}
            onClick={() => setMtgOpen(true)}
            disabled={!total}
            data-testid="mtg-open"
          >
            Generate captions
          </Button>
          <Button leftSection={<IconUpload size={16} />} onClick={() => setImportOpen(true)} data-testid="import-open">
            Import
          </Button>
        </Group>
      </Group>
      <LibraryFilters values={values} datasets={datasets.data ?? []} onChange={(patch) => setParams(patch)} />
      {paged.error && total !== null && (
        <Text c="red" size="sm">
          {paged.error}
        </Text>
      )}
      {body}
      <ImageDrawer
        imageId={selection?.id ?? null}
        index={selectedIndex}
        total={total ?? 0}
        onClose={() => setSelection(null)}
        move={move}
      />
      <ImportModal opened={importOpen} onClose={() => setImportOpen(false)} />
      <MtgStartDialog opened={mtgOpen} onClose={() => setMtgOpen(false)} filter={arg} matching={total} datasets={datasets.data ?? []} />
    </Stack>
  );
}
