// The Search page's "MTI report" tab: the `eval-mti` job (the same job as `ctgi eval --mti`) as a page:
// retrieval without and with MTI, what it costs (MLLM calls per query, latency percentiles), how often an
// anchor was found and was right, and the spread of top-1 similarities that ξ must be set against. The job
// runs in the background with a progress bar and Cancel; its report is stored with it, so the newest one
// of the model shows again after a reload.
import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  NumberInput,
  Progress,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
  Tooltip,
} from '@mantine/core';
import { IconAlertTriangle, IconChartBar, IconPlayerPlay, IconPlayerStop } from '@tabler/icons-react';
import { useState } from 'react';
import type { Job } from '#shared/jobs/types';
import { MTI_DEFAULTS, type MtiEvalReport } from '#shared/mti/types';
import type { DatasetId, ModelId } from '#shared/ids';
import { invoke } from '../../lib/api';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { errorMessage } from '../../lib/hooks';
import { useJobs } from '../../lib/jobs';
import { endpointQueries, mtiQueries } from '../../lib/queries';
import { CHECK_CONCURRENCY_HINT } from './MtiSettings';
import classes from './Mti.module.css';

const METRICS = [
  ['r1', 'R@1'],
  ['r5', 'R@5'],
  ['r10', 'R@10'],
  ['mAP', 'mAP'],
  ['mINP', 'mINP'],
] as const;

function Figure({ label, value, hint }: { label: string; value: string; hint?: string }): React.JSX.Element {
  return (
    <Card withBorder padding="sm" radius="md">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="xl" fw={700} style={{ fontVariantNumeric: 'tabular-nums' }}>
        {value}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Card>
  );
}

/** Top-1 cosine histogram with ξ marked: early exits above ξ should be rare and safe. */
function Top1Histogram({ r }: { r: MtiEvalReport }): React.JSX.Element {
  const bins = r.top1Similarity.histogram;
  const max = Math.max(1, ...bins.map((b) => b.count));
  const xi = r.params.xi;
  return (
    <Stack gap={4} data-testid="mti-report-histogram">
      {bins.map((b) => (
        <Group key={b.from} gap="xs" wrap="nowrap">
          <Text
            size="xs"
            w={110}
            style={{ fontVariantNumeric: 'tabular-nums' }}
            c={b.to > xi ? 'orange' : undefined}
          >
            {b.from.toFixed(3)}–{b.to.toFixed(3)}
          </Text>
          <div style={{ flex: 1 }}>
            <div
              className={classes.bar}
              style={{
                width: `${(100 * b.count) / max}%`,
                minWidth: b.count ? 2 : 0,
                background: b.to > xi ? 'var(--mantine-color-orange-5)' : undefined,
              }}
            />
          </div>
          <Text size="xs" w={36} ta="right" style={{ fontVariantNumeric: 'tabular-nums' }}>
            {b.count}
          </Text>
        </Group>
      ))}
      <Text size="xs" c="dimmed">
        ξ = {xi}:{' '}
        {xi > r.top1Similarity.max
          ? 'above every top-1 score, so no early exits (every query is asked about).'
          : `top-1 scores above it (orange) may skip the questions when the MLLM confirms.`}{' '}
        Median {r.top1Similarity.median.toFixed(3)}, p90 {r.top1Similarity.p90.toFixed(3)}: set ξ above the
        bulk so that only clear matches exit early.
      </Text>
    </Stack>
  );
}

export function ReportBody({ r }: { r: MtiEvalReport }): React.JSX.Element {
  const pct = (x: number): string => `${x.toFixed(1)} %`;
  return (
    <Stack gap="md" data-testid="mti-report">
      <Text size="sm" c="dimmed">
        {r.modelName} · {r.split} split · {r.queries} {r.queryKind} queries against {r.gallery} images · VQA “
        {r.vqaEndpoint}”, aggregator “{r.aggregatorEndpoint}” · k = {r.params.k}, ξ = {r.params.xi}, λ ={' '}
        {r.params.lambda}, {r.params.rounds} round
        {r.params.rounds === 1 ? '' : 's'}, {r.params.checkConcurrency} checks at once ·{' '}
        {(r.ms / 1000).toFixed(1)} s
      </Text>
      <Card withBorder radius="md" padding="sm">
        <Table verticalSpacing={4} data-testid="mti-report-metrics">
          <Table.Thead>
            <Table.Tr>
              <Table.Th />
              {METRICS.map(([, l]) => (
                <Table.Th key={l} ta="right">
                  {l}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody style={{ fontVariantNumeric: 'tabular-nums' }}>
            <Table.Tr>
              <Table.Td>Query alone</Table.Td>
              {METRICS.map(([k]) => (
                <Table.Td key={k} ta="right">
                  {r.without[k].toFixed(1)}
                </Table.Td>
              ))}
            </Table.Tr>
            <Table.Tr>
              <Table.Td fw={600}>With MTI</Table.Td>
              {METRICS.map(([k]) => {
                const d = r.with[k] - r.without[k];
                return (
                  <Table.Td key={k} ta="right" fw={600}>
                    {r.with[k].toFixed(1)}{' '}
                    <Text span size="xs" c={d > 0 ? 'teal' : d < 0 ? 'red' : 'dimmed'}>
                      {d >= 0 ? '+' : ''}
                      {d.toFixed(1)}
                    </Text>
                  </Table.Td>
                );
              })}
            </Table.Tr>
          </Table.Tbody>
        </Table>
      </Card>
      <SimpleGrid cols={{ base: 2, md: 4 }}>
        <Figure
          label="MLLM calls / query"
          value={r.callsPerQuery.mean.toFixed(1)}
          hint={`p50 ${r.callsPerQuery.p50} · p95 ${r.callsPerQuery.p95} · max ${r.callsPerQuery.max}`}
        />
        <Figure
          label="Latency p50"
          value={`${Math.round(r.latencyMs.p50)} ms`}
          hint={`p90 ${Math.round(r.latencyMs.p90)} · p95 ${Math.round(r.latencyMs.p95)} · p99 ${Math.round(r.latencyMs.p99)} · max ${Math.round(r.latencyMs.max)} ms`}
        />
        <Figure
          label="Anchor found"
          value={pct(r.anchorFound)}
          hint={`right person: ${pct(r.anchorCorrect)}`}
        />
        <Figure
          label="Early stops · fallbacks"
          value={`${pct(r.earlyStops)} · ${pct(r.fallbacks)}`}
          hint="fallback: the MLLM failed, plain ranking kept"
        />
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <Card withBorder radius="md" padding="sm">
          <Text fw={600} size="sm" mb="xs">
            Top-1 similarity (for ξ)
          </Text>
          <Top1Histogram r={r} />
        </Card>
        <Card withBorder radius="md" padding="sm">
          <Text fw={600} size="sm" mb="xs">
            Examples
          </Text>
          <Stack gap={6}>
            {r.examples.slice(0, 8).map((e, i) => (
              <div key={i}>
                <Group gap={6} wrap="nowrap">
                  <Badge
                    size="xs"
                    variant="light"
                    color={e.after < e.before ? 'teal' : e.after > e.before ? 'red' : 'gray'}
                    style={{ flexShrink: 0 }}
                  >
                    rank {e.before} → {e.after}
                  </Badge>
                  <Text size="sm" lineClamp={1}>
                    {e.query}
                  </Text>
                </Group>
                {e.refined && (
                  <Text size="xs" c="dimmed" lineClamp={2} pl={4}>
                    q̂: {e.refined}
                  </Text>
                )}
              </div>
            ))}
          </Stack>
        </Card>
      </SimpleGrid>
    </Stack>
  );
}

const RUNNING = new Set<Job['status']>(['queued', 'running']);

/** The running (or last) evaluation: a progress bar with Cancel while it runs, what stopped it otherwise. */
function EvalJobStatus({
  job,
  onCancel,
  onResume,
}: {
  job: Job;
  onCancel: () => void;
  onResume: () => void;
}): React.JSX.Element | null {
  const running = RUNNING.has(job.status);
  if (job.status === 'done') return null;
  const pct = job.total ? (100 * job.done) / job.total : 0;
  return (
    <Card withBorder radius="md" padding="sm" data-testid="mti-report-job" data-status={job.status}>
      <Group justify="space-between" mb={6}>
        <Text size="sm" fw={600}>
          {running
            ? `Evaluating: ${job.done} of ${job.total ?? '?'} queries`
            : job.status === 'cancelled'
              ? `Cancelled after ${job.done} of ${job.total ?? '?'} queries`
              : 'The evaluation failed'}
        </Text>
        {running ? (
          <Button
            size="xs"
            variant="default"
            color="red"
            leftSection={<IconPlayerStop size={14} />}
            onClick={onCancel}
            data-testid="mti-report-cancel"
          >
            Cancel
          </Button>
        ) : (
          <Button
            size="xs"
            variant="default"
            leftSection={<IconPlayerPlay size={14} />}
            onClick={onResume}
            data-testid="mti-report-resume"
          >
            Continue
          </Button>
        )}
      </Group>
      {running && (
        <Progress
          value={pct}
          animated={job.status === 'running'}
          size="lg"
          radius="xl"
          data-testid="mti-report-progress"
          aria-label={`${job.done} of ${job.total ?? '?'} queries`}
        />
      )}
      <Text size="xs" c="dimmed" mt={4}>
        {job.error ?? job.message ?? ''}
        {job.status === 'cancelled' && ' The queries already done are kept: Continue runs the rest.'}
      </Text>
    </Card>
  );
}

export function MtiReport({
  modelId,
  datasetId,
}: {
  modelId: ModelId;
  datasetId: DatasetId | undefined;
}): React.JSX.Element {
  const [split, setSplit] = useState<'test' | 'val' | 'train'>('test');
  const [queries, setQueries] = useState<'one-attribute' | 'first-clause' | 'captions'>('one-attribute');
  const [limit, setLimit] = useState<number>(48);
  const [xi, setXi] = useState<number>(0.85);
  const [checkConcurrency, setCheckConcurrency] = useState<number>(MTI_DEFAULTS.checkConcurrency);
  const [error, setError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const endpoints = useQuery(endpointQueries.list());
  const [endpoint, setEndpoint] = useState<string | null>(null);
  // The newest evaluation of this model, running or done: it outlives the page (a reload shows it again).
  // While it runs, the window's live job list has its progress; when it finishes, the query is stale
  // (lib/staleRules.ts) and comes back with the report stored with the job.
  const client = useQueryClient();
  const newest = useQuery(mtiQueries.newestEval(modelId));
  const { jobs, upsert } = useJobs();
  const saved = newest.data?.job ?? null;
  const job = (saved && jobs.find((j) => j.id === saved.id)) ?? saved;
  const report = newest.data?.report ?? null;
  const shownError = error ?? (newest.error ? errorMessage(newest.error) : null);

  const running = job !== null && RUNNING.has(job.status);
  const run = (): void => {
    setStarting(true);
    setError(null);
    // One endpoint for both roles when the analyst picks one; else the service's default per role.
    const ep = endpoint ?? undefined;
    invoke('eval:mti-start', {
      modelId,
      datasetId,
      split,
      queries,
      limit,
      vqaEndpoint: ep,
      aggregatorEndpoint: ep,
      params: { xi, checkConcurrency },
    })
      .then(
        (r) => {
          // The new job is this model's newest evaluation now, with no report yet.
          client.setQueryData(mtiQueries.newestEval(modelId).queryKey, { job: r.job, report: null });
          upsert(r.job);
        },
        (err: unknown) => setError(errorMessage(err)),
      )
      .finally(() => setStarting(false));
  };
  const act = (call: Promise<Job>): void => {
    call.then(upsert, (err: unknown) => setError(errorMessage(err)));
  };
  return (
    <Stack gap="md" style={{ flex: 1, minHeight: 0, overflowY: 'auto' }} data-testid="mti-report-view">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={4}>Does MTI help on this model?</Title>
          <Text size="sm" c="dimmed">
            Ranks a labelled split’s queries with and without MTI as a job (see Jobs); every query costs MLLM
            calls, so start with a few.
          </Text>
        </div>
      </Group>
      <Group align="flex-end" gap="sm">
        <Select
          label="Split"
          w={110}
          data={['test', 'val', 'train']}
          value={split}
          onChange={(v) => v && setSplit(v as typeof split)}
          allowDeselect={false}
        />
        <Select
          label="Queries"
          w={260}
          data={[
            { value: 'one-attribute', label: 'Vague: one attribute (synthetic)' },
            { value: 'first-clause', label: 'Vague: first clause of a caption' },
            { value: 'captions', label: 'Full captions' },
          ]}
          value={queries}
          onChange={(v) => v && setQueries(v as typeof queries)}
          allowDeselect={false}
          data-testid="mti-report-queries"
        />
        <NumberInput
          label="Queries, at most"
          w={140}
          min={1}
          max={1_000_000}
          value={limit}
          onChange={(v) => setLimit(Number(v) || 1)}
          data-testid="mti-report-limit"
        />
        <Tooltip
          label="Early exit when the top candidate's cosine is above ξ and the MLLM confirms it. Above 1: never."
          withArrow
          multiline
          w={260}
        >
          <NumberInput
            label="ξ"
            w={100}
            step={0.05}
            min={-1}
            max={2}
            decimalScale={3}
            value={xi}
            onChange={(v) => setXi(Number(v))}
            data-testid="mti-report-xi"
          />
        </Tooltip>
        <Select
          label="MLLM endpoint"
          w={200}
          placeholder="Default"
          data={(endpoints.data ?? []).map((e) => ({ value: e.name, label: `${e.name} · ${e.model}` }))}
          value={endpoint}
          onChange={setEndpoint}
          clearable
          data-testid="mti-report-endpoint"
        />
        <Tooltip label={CHECK_CONCURRENCY_HINT} withArrow multiline w={280}>
          <NumberInput
            label="Checks at once"
            w={130}
            min={1}
            max={256}
            value={checkConcurrency}
            onChange={(v) => setCheckConcurrency(Math.max(1, Number(v) || 1))}
            data-testid="mti-report-check-concurrency"
          />
        </Tooltip>
        <Button
          leftSection={<IconChartBar size={16} />}
          loading={starting}
          disabled={running}
          onClick={run}
          data-testid="mti-report-run"
        >
          Evaluate
        </Button>
      </Group>
      {shownError && (
        <Alert
          color="red"
          icon={<IconAlertTriangle size={16} />}
          title="The evaluation could not run"
          data-testid="mti-report-error"
          style={{ whiteSpace: 'pre-wrap' }}
        >
          {shownError}
        </Alert>
      )}
      {job && (
        <EvalJobStatus
          job={job}
          onCancel={() => act(invoke('jobs:cancel', { id: job.id }))}
          onResume={() => act(invoke('jobs:resume', { id: job.id }))}
        />
      )}
      {report && <ReportBody r={report} />}
    </Stack>
  );
}
