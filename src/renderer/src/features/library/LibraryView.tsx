import { Alert, Button, Center, EmptyState, Group, Loader, Stack, Text, Title } from '@mantine/core';
import {
  IconAlertTriangle,
  IconPhotoOff,
  IconPhotoPlus,
  IconSparkles,
  IconUpload,
} from '@tabler/icons-react';
import { useCallback, useState } from 'react';
import type { CaptionFilter, Split } from '#shared/library/types';
import { CAPTION_FILTERS, SPLITS } from '#shared/library/types';
import type { DatasetId } from '#shared/ids';
import { useRoute } from '../../app/router';
import { formatCount } from '../../lib/format';
import { useQuery } from '@tanstack/react-query';
import { libraryQueries } from '../../lib/queries';
import { useStale } from '../../lib/serverState';
import { MtgStartDialog } from '../mtg/MtgStartDialog';
import { ImageDrawer } from './ImageDrawer';
import { ImageGrid } from './ImageGrid';
import { ImportModal } from './ImportModal';
import type { FilterValues } from './LibraryFilters';
import { LibraryFilters } from './LibraryFilters';
import type { ImageFilterArg } from './usePagedImages';
import { usePagedImages } from './usePagedImages';
import { useGridSelection } from '../../lib/useGridSelection';

/** Filters live in the URL (`#/library?dataset=2&split=train`), so back/forward and links restore them. */
function filterFromParams(params: URLSearchParams): {
  values: FilterValues;
  arg: ImageFilterArg;
  key: string;
} {
  const values: FilterValues = {
    dataset: params.get('dataset') ?? undefined,
    split: params.get('split') ?? undefined,
    person: params.get('person') ?? undefined,
    captions: params.get('captions') ?? undefined,
  };
  const datasetId = Number(values.dataset);
  const split =
    values.split === 'none' || (SPLITS as readonly string[]).includes(values.split ?? '')
      ? values.split
      : undefined;
  const captions = (CAPTION_FILTERS as readonly string[]).includes(values.captions ?? '')
    ? values.captions
    : 'any';
  const arg: ImageFilterArg = {
    datasetId: Number.isInteger(datasetId) && datasetId > 0 ? (datasetId as DatasetId) : undefined,
    split: split as Split | 'none' | undefined,
    personId: values.person || undefined,
    captions: captions as CaptionFilter,
  };
  return { values, arg, key: JSON.stringify(arg) };
}

export function LibraryView(): React.JSX.Element {
  const { params, setParams } = useRoute();
  const { values, arg, key } = filterFromParams(params);
  const paged = usePagedImages(arg, key);
  const datasets = useQuery(libraryQueries.datasets());
  const [importOpen, setImportOpen] = useState(false);
  const [mtgOpen, setMtgOpen] = useState(false);

  // The pages are not queries (a sparse array over 100,000 images), but go stale by the same rules: the
  // library changed, or an import running grows it.
  useStale('images:list', paged.invalidate);

  const total = paged.total;
  // A loaded item opens at once; one whose page is not here yet opens when it lands.
  const resolve = useCallback(
    (index: number) => {
      if (total === null || index < 0 || index >= total) return undefined;
      const item = paged.get(index);
      return item ? item.id : paged.fetchIndex(index).then((found) => found?.id);
    },
    [paged, total],
  );
  const { grid, selection, selectedIndex, select, close, move } = useGridSelection(key, resolve);

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
          description={
            filtered ? 'Try a different dataset, split, person or caption status.' : 'No images yet.'
          }
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
    body = <ImageGrid ref={grid} paged={paged} selectedIndex={selectedIndex} onOpen={select} />;
  }

  return (
    <Stack gap="md" style={{ flex: 1, minHeight: 0 }}>
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Library</Title>
          <Text c="dimmed" size="sm" data-testid="library-count">
            {total === null
              ? 'Loading…'
              : `${formatCount(total)} image${total === 1 ? '' : 's'}${filtered ? ' match' : ''}`}
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
          <Button
            leftSection={<IconUpload size={16} />}
            onClick={() => setImportOpen(true)}
            data-testid="import-open"
          >
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
        onClose={close}
        move={move}
      />
      <ImportModal opened={importOpen} onClose={() => setImportOpen(false)} />
      <MtgStartDialog
        opened={mtgOpen}
        onClose={() => setMtgOpen(false)}
        filter={arg}
        matching={total}
        datasets={datasets.data ?? []}
      />
    </Stack>
  );
}
