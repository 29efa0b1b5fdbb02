// Export accepted captions as a dataset folder. The checks that can fail at once (nothing accepted, a
// folder that exists or cannot be written, no room) answer here; the copy itself runs as a job.
import {
  Alert,
  Button,
  Checkbox,
  Group,
  Modal,
  NumberInput,
  SegmentedControl,
  Select,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useDebouncedValue } from '@mantine/hooks';
import { IconAlertTriangle } from '@tabler/icons-react';
import { useState } from 'react';
import type { CaptionSource } from '#shared/library/types';
import type { ExportFormat, ExportImageMode } from '#shared/review/types';
import { CAPTION_SOURCES } from '#shared/library/types';
import { asDatasetId } from '#shared/ids';
import { routeHref } from '../../app/router';
import { invoke } from '../../lib/api';
import { formatCount } from '../../lib/format';
import { useQuery } from '@tanstack/react-query';
import { libraryQueries, reviewQueries } from '../../lib/queries';
import { useAction } from '../../lib/useAction';

const FORMATS: { value: ExportFormat; label: string }[] = [
  { value: 'cuhk-pedes', label: 'CUHK-PEDES (reid_raw.json)' },
  { value: 'icfg-pedes', label: 'ICFG-PEDES (ICFG-PEDES.json)' },
  { value: 'rstpreid', label: 'RSTPReid (data_captions.json)' },
  { value: 'jsonl', label: 'JSON Lines with provenance' },
];

/** The caption sources, as `ctgi export --sources human,mtg,edited` names them. */
const SOURCE_LABEL: Record<CaptionSource, string> = {
  human: 'Dataset captions (human)',
  mtg: 'Generated, accepted as written (mtg)',
  edited: 'Edited by a reviewer (edited)',
};

export function ExportModal({
  opened,
  onClose,
}: {
  opened: boolean;
  onClose: () => void;
}): React.JSX.Element {
  const datasets = useQuery({ ...libraryQueries.datasets(), enabled: opened });
  const [outDir, setOutDir] = useState('');
  const [format, setFormat] = useState<ExportFormat>('cuhk-pedes');
  const [images, setImages] = useState<ExportImageMode>('copy');
  const [dataset, setDataset] = useState<string | null>(null);
  const [ratios, setRatios] = useState({ train: 0.8, val: 0.1, test: 0.1 });
  const [seed, setSeed] = useState(1);
  const [overwrite, setOverwrite] = useState(false);
  const [sources, setSources] = useState<CaptionSource[]>([...CAPTION_SOURCES]);
  const { busy, error, setError, run } = useAction();
  // A refusal belongs to the attempt it answered: reopened, the dialog starts without it.
  const close = (): void => {
    setError(null);
    onClose();
  };
  const datasetId = dataset ? asDatasetId(Number(dataset)) : undefined;
  // What would go out, and where: asked again as the choices change (the folder once typing pauses).
  const [folder] = useDebouncedValue(outDir.trim(), 250);
  const preview = useQuery({
    ...reviewQueries.exportPreview({
      datasetId,
      sources: sources.length > 0 ? sources : undefined,
      outDir: folder || undefined,
    }),
    enabled: opened,
  });
  const p = preview.data;
  const chosen = sources.length > 0 ? p : undefined;

  const start = async (): Promise<void> => {
    await run(async () => {
      const r = await invoke('export:start', {
        outDir: outDir.trim(),
        format,
        images,
        datasetId,
        sources,
        splitRatios: ratios,
        seed,
        overwrite,
      });
      notifications.show({
        color: 'indigo',
        title: 'Export started',
        message: (
          <>
            {formatCount(r.captions)} captions of {formatCount(r.images)} images → {r.outDir}.{' '}
            <a href={routeHref('jobs')}>Follow it in Jobs</a>
          </>
        ),
      });
      close();
    });
  };

  return (
    <Modal
      opened={opened}
      onClose={close}
      title="Export accepted captions"
      size="lg"
      data-testid="export-modal"
    >
      <Stack gap="sm" onKeyDown={(e) => e.stopPropagation()}>
        <TextInput
          label="Folder to create"
          description={`The dataset folder: the annotation file and imgs/ go inside. It must be new or empty; missing folders above it are made. A relative path is placed in the workspace's folder${p ? ` (${p.workspaceFolder})` : ''}.`}
          placeholder="/data/exports/my-dataset"
          value={outDir}
          onChange={(e) => setOutDir(e.currentTarget.value)}
          data-testid="export-folder"
        />
        {folder !== '' && folder === outDir.trim() && p && (p.outDir || p.outDirProblem) && (
          <Text size="xs" c={p.outDirProblem ? 'red' : 'dimmed'} data-testid="export-target">
            {p.outDirProblem ?? `→ ${p.outDir}`}
          </Text>
        )}
        <Select
          label="Format"
          data={FORMATS}
          value={format}
          onChange={(v) => v && setFormat(v as ExportFormat)}
          allowDeselect={false}
          data-testid="export-format"
        />
        <div>
          <Text size="sm" fw={500} mb={4}>
            Images
          </Text>
          <SegmentedControl
            value={images}
            onChange={(v) => setImages(v as ExportImageMode)}
            data={[
              { value: 'copy', label: 'Copy' },
              { value: 'hardlink', label: 'Hard link (same disk)' },
              { value: 'reference', label: 'Reference in place' },
            ]}
          />
        </div>
        <Select
          label="Dataset"
          placeholder="All datasets"
          clearable
          data={(datasets.data ?? []).map((d) => ({ value: String(d.id), label: d.name }))}
          value={dataset}
          onChange={setDataset}
        />
        <Checkbox.Group
          label="Captions to export"
          description="Accepted captions of these sources, as ctgi export --sources chooses them."
          value={sources}
          onChange={(v) => setSources(CAPTION_SOURCES.filter((s) => v.includes(s)))}
        >
          <Stack gap={6} mt={6}>
            {CAPTION_SOURCES.map((s) => (
              <Checkbox
                key={s}
                value={s}
                label={`${SOURCE_LABEL[s]} · ${p ? formatCount(p.bySource[s]) : '…'}`}
                wrapperProps={{ 'data-testid': `export-source-${s}` }}
              />
            ))}
          </Stack>
        </Checkbox.Group>
        <Text size="sm" fw={500} data-testid="export-count">
          {sources.length === 0
            ? 'Choose at least one source.'
            : chosen
              ? chosen.captions === 0
                ? 'Nothing to export: no accepted captions of these sources.'
                : `Exports ${formatCount(chosen.captions)} caption${chosen.captions === 1 ? '' : 's'} of ${formatCount(chosen.images)} image${chosen.images === 1 ? '' : 's'}.`
              : '…'}
        </Text>
        <Text size="sm" fw={500}>
          Splits for images that have none (by identity)
        </Text>
        <Group grow>
          {(['train', 'val', 'test'] as const).map((k) => (
            <NumberInput
              key={k}
              label={k}
              min={0}
              step={0.05}
              decimalScale={3}
              value={ratios[k]}
              onChange={(v) => setRatios((r) => ({ ...r, [k]: Number(v) || 0 }))}
            />
          ))}
          <NumberInput label="seed" value={seed} onChange={(v) => setSeed(Math.trunc(Number(v) || 0))} />
        </Group>
        <Checkbox
          label="Replace an earlier CTGI Studio export in this folder (only once the new one is complete; other folders are never replaced)"
          checked={overwrite}
          onChange={(e) => setOverwrite(e.currentTarget.checked)}
        />
        {error && (
          <Alert color="red" icon={<IconAlertTriangle size={18} />} data-testid="export-error">
            {error}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button
            loading={busy}
            disabled={outDir.trim() === '' || sources.length === 0 || chosen?.captions === 0}
            onClick={() => void start()}
            data-testid="export-start"
          >
            Export
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
