// Starting an MTG batch from the Library: which images (the current filter), which endpoints answer
// the questions and write the caption — each probed before anything is paid for — and how many rounds.
import {
  Alert,
  Anchor,
  Button,
  Checkbox,
  Divider,
  Group,
  Modal,
  NumberInput,
  Select,
  SimpleGrid,
  Stack,
  Text,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconPlayerPlay, IconRefresh } from '@tabler/icons-react';
import { useCallback, useEffect, useState } from 'react';
import type { InvokeArg } from '#shared/contract';
import type { CaptionFilter, Dataset, Split } from '#shared/library/types';
import type { LlmEndpoint } from '#shared/llm/types';
import type { MtgEstimate } from '#shared/mtg/types';
import { SPLITS } from '#shared/library/types';
import type { DatasetId, ImageId } from '#shared/ids';
import { navigate, routeHref } from '../../app/router';
import { invoke } from '../../lib/api';
import { formatCount } from '../../lib/format';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../../lib/hooks';
import { endpointQueries, mtgQueries, promptQueries } from '../../lib/queries';
import { ROLE_LABEL } from '../../lib/labels';
import { ProbeSummary, type ProbeState } from '../../lib/ProbeResult';
import { useJobs } from '../../lib/jobs';

/** The Library's filter, as the grid applies it. */
export interface LibraryFilter {
  datasetId?: number | undefined;
  split?: Split | 'none' | undefined;
  personId?: string | undefined;
  captions?: CaptionFilter | undefined;
}

const CAPTION_WORDS: Record<CaptionFilter, string> = {
  any: '',
  none: 'without captions',
  pending: 'with pending captions',
  accepted: 'with accepted captions',
  rejected: 'with rejected captions',
  flagged: 'with flagged captions',
};

/** mtg:start takes a dataset and a split; anything narrower travels as image ids. */
const needsIds = (f: LibraryFilter): boolean =>
  Boolean(f.personId) || (f.captions ?? 'any') !== 'any' || f.split === 'none';

function describeFilter(f: LibraryFilter, datasets: Dataset[]): string {
  const parts: string[] = [];
  parts.push(
    f.datasetId
      ? (datasets.find((d) => d.id === f.datasetId)?.name ?? `dataset ${f.datasetId}`)
      : 'all datasets',
  );
  if (f.split) parts.push(f.split === 'none' ? 'no split' : `${f.split} split`);
  if (f.personId) parts.push(`person ${f.personId}`);
  if (f.captions && f.captions !== 'any') parts.push(CAPTION_WORDS[f.captions]);
  return parts.join(' · ');
}

/** Every id the Library filter matches, page by page (the list call's pages are at most 2,000). */
async function idsMatching(f: LibraryFilter): Promise<ImageId[]> {
  const ids: ImageId[] = [];
  for (let offset = 0; ; offset += 2000) {
    const page = await invoke('images:list', { ...f, offset, limit: 2000 });
    ids.push(...page.items.map((i) => i.id));
    if (page.items.length < 2000 || ids.length >= page.total) return ids;
  }
}

const fits = (e: LlmEndpoint, want: 'vqa' | 'reconstructor'): boolean => e.role === 'both' || e.role === want;

export function MtgStartDialog({
  opened,
  onClose,
  filter,
  matching,
  datasets,
}: {
  opened: boolean;
  onClose: () => void;
  filter: LibraryFilter;
  /** Images the Library shows for this filter. */
  matching: number | null;
  datasets: Dataset[];
}): React.JSX.Element {
  return (
    <Modal
      opened={opened}
      onClose={onClose}
      title={<Text fw={650}>Generate captions with MTG</Text>}
      size="lg"
      centered
      data-testid="mtg-dialog"
    >
      {opened && <DialogBody filter={filter} matching={matching} datasets={datasets} onClose={onClose} />}
    </Modal>
  );
}

function DialogBody({
  filter,
  matching,
  datasets,
  onClose,
}: {
  filter: LibraryFilter;
  matching: number | null;
  datasets: Dataset[];
  onClose: () => void;
}): React.JSX.Element {
  const { upsert } = useJobs();
  const endpoints = useQuery(endpointQueries.list());
  const prompts = useQuery(promptQueries.sets());
  const narrow = needsIds(filter);
  const [onlyFiltered, setOnlyFiltered] = useState(narrow);
  const [dataset, setDataset] = useState(filter.datasetId ? String(filter.datasetId) : '');
  const [split, setSplit] = useState(filter.split && filter.split !== 'none' ? filter.split : '');
  const [vqa, setVqa] = useState<string | null>(null);
  const [rec, setRec] = useState<string | null>(null);
  const [rounds, setRounds] = useState<number | string>(6);
  const [concurrency, setConcurrency] = useState<number | string>('');
  const [promptSet, setPromptSet] = useState<string | null>(null);
  const [redo, setRedo] = useState(false);
  const [verify, setVerify] = useState(false);
  const [batchMode, setBatchMode] = useState(false);
  const [budget, setBudget] = useState<number | string>('');
  const [estimate, setEstimate] = useState<
    | { status: 'running' }
    | { status: 'done'; value: MtgEstimate }
    | { status: 'error'; message: string }
    | null
  >(null);
  const [probes, setProbes] = useState<Record<string, ProbeState>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const list = endpoints.data ?? [];
  const vqaOptions = list.filter((e) => fits(e, 'vqa'));
  const recOptions = list.filter((e) => fits(e, 'reconstructor'));
  // First sensible picks once the list arrives: one endpoint for both roles when it can do both.
  if (endpoints.data && vqa === null && vqaOptions[0]) setVqa(vqaOptions[0].name);
  if (endpoints.data && rec === null && recOptions[0]) {
    const same = vqaOptions[0] && fits(vqaOptions[0], 'reconstructor') ? vqaOptions[0] : recOptions[0];
    setRec(same.name);
  }
  const sets = prompts.data ?? [];
  if (prompts.data && promptSet === null && sets.length > 0) {
    setPromptSet(String((sets.find((s) => s.name === 'default') ?? sets[0]!).id));
  }

  const probe = useCallback(async (name: string) => {
    setProbes((p) => ({ ...p, [name]: { status: 'running' } }));
    try {
      const r = await invoke('endpoints:probe', { name });
      setProbes((p) => ({ ...p, [name]: { status: 'done', probe: r } }));
    } catch (err) {
      setProbes((p) => ({ ...p, [name]: { status: 'error', message: errorMessage(err) } }));
    }
  }, []);
  // Probe each picked endpoint once: before a batch, not after its first hundred failures.
  useEffect(() => {
    for (const name of [vqa, rec]) if (name && !probes[name]) void probe(name);
  }, [vqa, rec, probes, probe]);

  const scope = onlyFiltered
    ? {
        datasetId: filter.datasetId,
        split: filter.split,
        personId: filter.personId,
        captions: filter.captions ?? 'any',
      }
    : {
        datasetId: dataset ? (Number(dataset) as DatasetId) : undefined,
        split: (split || undefined) as Split | undefined,
        captions: 'any' as const,
      };
  const count = useQuery(mtgQueries.imageCount(scope));
  const inScope = onlyFiltered ? matching : (count.data?.total ?? null);

  const vqaProbe = vqa ? probes[vqa] : undefined;
  const recProbe = rec ? probes[rec] : undefined;
  const ready = (s: ProbeState | undefined): boolean => s?.status === 'done' && s.probe.ok;
  const probing = vqaProbe?.status === 'running' || recProbe?.status === 'running';
  const vqaEndpoint = list.find((e) => e.name === vqa);

  /** The images the job would cover, as mtg:start and mtg:estimate take them. */
  const selection = async (): Promise<{ imageIds?: number[]; datasetId?: number; split?: Split }> => {
    if (onlyFiltered) {
      const ids = await idsMatching(filter);
      if (ids.length === 0)
        throw new Error('No image matches the Library filter any more; change the filter and try again.');
      return { imageIds: ids };
    }
    return {
      ...(dataset ? { datasetId: Number(dataset) } : {}),
      ...(split ? { split: split as Split } : {}),
    };
  };

  // A few images run now (their answers are kept for the job): tokens per image × the selection.
  const runEstimate = async (): Promise<void> => {
    if (!vqa || !rec) return;
    setEstimate({ status: 'running' });
    try {
      const value = await invoke('mtg:estimate', {
        vqaEndpoint: vqa,
        reconstructorEndpoint: rec,
        rounds: Number(rounds),
        redo,
        verify,
        sample: 3,
        ...(await selection()),
      } as InvokeArg<'mtg:estimate'>);
      setEstimate({ status: 'done', value });
    } catch (err) {
      setEstimate({ status: 'error', message: errorMessage(err) });
    }
  };

  const start = async (): Promise<void> => {
    if (!vqa || !rec) return;
    setBusy(true);
    setError(null);
    try {
      const arg = {
        vqaEndpoint: vqa,
        reconstructorEndpoint: rec,
        rounds: Number(rounds),
        redo,
        verify,
        ...(concurrency !== '' ? { concurrency: Number(concurrency) } : {}),
        ...(promptSet ? { promptSetId: Number(promptSet) } : {}),
        ...(batchMode ? { mode: 'batch' as const } : {}),
        ...(budget !== '' && Number(budget) > 0 ? { budgetUsd: Number(budget) } : {}),
        ...(await selection()),
      } as InvokeArg<'mtg:start'>;
      const { job, images } = await invoke('mtg:start', arg);
      upsert(job);
      notifications.show({
        color: 'teal',
        title: 'MTG started',
        message: `${formatCount(images)} images to caption; follow it in Jobs.`,
      });
      onClose();
      navigate(routeHref('jobs'));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  if (endpoints.data && list.length === 0) {
    return (
      <Stack data-testid="mtg-no-endpoints">
        <Text size="sm">
          MTG needs an OpenAI-compatible endpoint that answers questions about images (and one, possibly the
          same, that rewrites the answers into a caption). None is saved yet.
        </Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Close
          </Button>
          <Button
            onClick={() => {
              onClose();
              navigate(routeHref('settings'));
            }}
          >
            Add one in Settings
          </Button>
        </Group>
      </Stack>
    );
  }

  const endpointData = (opts: LlmEndpoint[]): { value: string; label: string }[] =>
    opts.map((e) => ({
      value: e.name,
      label: `${e.name} — ${e.model}${e.role === 'both' ? '' : ` (${ROLE_LABEL[e.role]})`}`,
    }));
  const splitOptions = [
    { value: '', label: 'All splits' },
    ...SPLITS.map((s) => ({ value: s, label: s[0]!.toUpperCase() + s.slice(1) })),
  ];

  return (
    <Stack gap="md">
      <Stack gap={6}>
        <Text size="sm" fw={600}>
          Images
        </Text>
        {narrow && (
          <Checkbox
            checked={onlyFiltered}
            onChange={(e) => setOnlyFiltered(e.currentTarget.checked)}
            label={`Only the ${matching === null ? '' : `${formatCount(matching)} `}images the Library shows (${describeFilter(filter, datasets)})`}
            data-testid="mtg-only-filtered"
          />
        )}
        {!onlyFiltered && (
          <SimpleGrid cols={2} spacing="sm">
            <Select
              aria-label="Dataset"
              data={[
                { value: '', label: 'All datasets' },
                ...datasets.map((d) => ({ value: String(d.id), label: d.name })),
              ]}
              value={dataset}
              onChange={(v) => setDataset(v ?? '')}
              allowDeselect={false}
              data-testid="mtg-dataset"
            />
            <Select
              aria-label="Split"
              data={splitOptions}
              value={split}
              onChange={(v) => setSplit(v ?? '')}
              allowDeselect={false}
              data-testid="mtg-split"
            />
          </SimpleGrid>
        )}
        <Text size="xs" c="dimmed" data-testid="mtg-scope">
          {inScope === null
            ? 'Counting…'
            : `${formatCount(inScope)} image${inScope === 1 ? '' : 's'} selected`}
          {redo ? '; every one is captioned again.' : '; those that already have an MTG caption are skipped.'}
        </Text>
      </Stack>

      <Divider />
      <SimpleGrid cols={2} spacing="md">
        <Stack gap={6}>
          <Select
            label="VQA endpoint"
            description="Answers the questions about each image"
            data={endpointData(vqaOptions)}
            value={vqa}
            onChange={setVqa}
            allowDeselect={false}
            nothingFoundMessage="No endpoint with the VQA role"
            data-testid="mtg-vqa"
          />
          <ProbeSummary state={vqaProbe ?? { status: 'idle' }} testId="mtg-vqa-probe" />
        </Stack>
        <Stack gap={6}>
          <Select
            label="Reconstructor endpoint"
            description="Merges the kept answers into one caption"
            data={endpointData(recOptions)}
            value={rec}
            onChange={setRec}
            allowDeselect={false}
            nothingFoundMessage="No endpoint with the reconstructor role"
            data-testid="mtg-reconstructor"
          />
          {rec !== vqa && <ProbeSummary state={recProbe ?? { status: 'idle' }} testId="mtg-rec-probe" />}
          {rec === vqa && rec !== null && (
            <Text size="xs" c="dimmed">
              The same endpoint does both.
            </Text>
          )}
        </Stack>
      </SimpleGrid>

      <SimpleGrid cols={3} spacing="sm">
        <NumberInput
          label="Rounds"
          description="Questions per image (paper: 6)"
          min={0}
          max={50}
          value={rounds}
          onChange={setRounds}
          data-testid="mtg-rounds"
        />
        <NumberInput
          label="Images at once"
          description="Empty: 2 × VQA concurrency (all servers)"
          min={1}
          max={1024}
          // Just the number: the box is a third of the dialog, and the rule is in the description.
          placeholder={
            vqaEndpoint
              ? String(
                  Math.min(
                    1024,
                    2 * vqaEndpoint.replicas.reduce((n, r) => n + r.concurrency, vqaEndpoint.concurrency),
                  ),
                )
              : 'automatic'
          }
          value={concurrency}
          onChange={setConcurrency}
          data-testid="mtg-concurrency"
        />
        <Select
          label="Prompt set"
          description="Templates and question pool"
          data={sets.map((s) => ({ value: String(s.id), label: `${s.name} v${s.version}` }))}
          value={promptSet}
          onChange={setPromptSet}
          allowDeselect={false}
          data-testid="mtg-prompts"
        />
      </SimpleGrid>
      <Checkbox
        checked={redo}
        onChange={(e) => setRedo(e.currentTarget.checked)}
        label="Caption again images that already have an MTG caption (their earlier captions and rounds are kept)"
        data-testid="mtg-redo"
      />
      <Checkbox
        checked={verify}
        onChange={(e) => setVerify(e.currentTarget.checked)}
        label="Verify each kept answer with a second yes/no question, and drop what the model then denies"
        description="More model calls; fewer wrong details when the model is unreliable. Off reproduces the paper."
        data-testid="mtg-verify"
      />
      <Checkbox
        checked={batchMode}
        onChange={(e) => setBatchMode(e.currentTarget.checked)}
        label="Through the endpoint's Batch API (/v1/batches), round by round"
        description="At the batch price (half at OpenAI), answers within hours instead of seconds; a restarted job picks up the batches it submitted."
        data-testid="mtg-batch"
      />
      <Group align="flex-end" gap="sm">
        <NumberInput
          label="Budget (USD)"
          description="The job pauses when its calls have cost this much"
          placeholder="no limit"
          min={0}
          decimalScale={2}
          value={budget}
          onChange={setBudget}
          w={220}
          data-testid="mtg-budget"
        />
        <Button
          variant="default"
          disabled={!vqa || !rec}
          loading={estimate?.status === 'running'}
          onClick={() => void runEstimate()}
          data-testid="mtg-estimate"
        >
          Estimate cost
        </Button>
      </Group>
      {estimate?.status === 'done' && (
        <Text size="sm" data-testid="mtg-estimate-result">
          About {formatCount(estimate.value.promptTokens + estimate.value.completionTokens)} tokens for{' '}
          {formatCount(estimate.value.images)} images ({estimate.value.callsPerImage.toFixed(1)} calls each,
          from {estimate.value.sampleImages} run now and kept):{' '}
          {estimate.value.costUsd === null
            ? 'no price set for the endpoint'
            : `$${estimate.value.costUsd.toFixed(2)}, or $${(estimate.value.batchCostUsd ?? 0).toFixed(2)} through the Batch API`}
          .
        </Text>
      )}
      {estimate?.status === 'error' && (
        <Text size="sm" c="red" data-testid="mtg-estimate-result">
          {estimate.message}
        </Text>
      )}

      {error && (
        <Alert color="red" icon={<IconAlertTriangle size={18} />} data-testid="mtg-error">
          {error}
        </Alert>
      )}
      <Group justify="space-between">
        <Anchor
          size="sm"
          href={routeHref('settings')}
          onClick={() => {
            onClose();
          }}
        >
          Manage endpoints and prompts
        </Anchor>
        <Group gap="xs">
          {!probing && ((vqaProbe && !ready(vqaProbe)) || (recProbe && !ready(recProbe))) ? (
            <Button
              variant="default"
              leftSection={<IconRefresh size={16} />}
              onClick={() => {
                if (vqa) void probe(vqa);
                if (rec && rec !== vqa) void probe(rec);
              }}
              data-testid="mtg-reprobe"
            >
              Probe again
            </Button>
          ) : null}
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button
            leftSection={<IconPlayerPlay size={16} />}
            loading={busy}
            disabled={!ready(vqaProbe) || !ready(recProbe) || probing || inScope === 0}
            onClick={() => void start()}
            data-testid="mtg-start"
          >
            {probing ? 'Probing…' : 'Start MTG'}
          </Button>
        </Group>
      </Group>
    </Stack>
  );
}
