import {
  Alert,
  Badge,
  Button,
  Card,
  Collapse,
  EmptyState,
  Group,
  Progress,
  ScrollArea,
  Skeleton,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import {
  IconAlertTriangle,
  IconChevronDown,
  IconChevronRight,
  IconListDetails,
  IconPlayerPause,
  IconPlayerPlay,
  IconPlayerStop,
} from '@tabler/icons-react';
import { useState } from 'react';
import { isJobFinished, type Job } from '#shared/jobs/types';
import { invoke } from '../../lib/api';
import { formatCount, formatDuration, formatRate, formatTime } from '../../lib/format';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../../lib/hooks';
import { jobQueries } from '../../lib/queries';
import { JOB_STATUS_COLOR, JOB_STATUS_LABEL } from '../../lib/labels';
import { isActive, useJobs } from '../../lib/jobs';
import { MtgSpend } from './MtgSpend';

function Issues({ job }: { job: Job }): React.JSX.Element {
  // Stale on every job's progress, so new issues reported while this one runs are fetched again.
  const { data, error } = useQuery(jobQueries.issues(job.id, 500));
  if (error)
    return (
      <Text c="red" size="sm">
        {errorMessage(error)}
      </Text>
    );
  if (!data) return <Skeleton height={60} />;
  if (!data || data.length === 0)
    return (
      <Text size="sm" c="dimmed">
        No issues recorded.
      </Text>
    );
  return (
    <ScrollArea.Autosize mah={280}>
      <Table striped highlightOnHover verticalSpacing={4} fz="sm" data-testid="job-issues">
        <Table.Thead>
          <Table.Tr>
            <Table.Th w={90}>Severity</Table.Th>
            <Table.Th w={260}>Item</Table.Th>
            <Table.Th>Message</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {data.map((issue, i) => (
            <Table.Tr key={i}>
              <Table.Td>
                <Badge size="xs" variant="light" color={issue.severity === 'error' ? 'red' : 'yellow'}>
                  {issue.severity}
                </Badge>
              </Table.Td>
              <Table.Td>
                <Text size="xs" ff="monospace" style={{ wordBreak: 'break-all' }}>
                  {issue.item}
                </Text>
              </Table.Td>
              <Table.Td c={issue.severity === 'error' ? 'red' : undefined}>{issue.message}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {data.length >= 500 && (
        <Text size="xs" c="dimmed" mt={4}>
          Showing the first 500 of {formatCount(job.issueCount)} issues.
        </Text>
      )}
    </ScrollArea.Autosize>
  );
}

/**
 * Jobs offered a Pause while they run: their work is stored as it goes (MTG keeps every finished image's
 * rounds and caption), and resuming picks up the images not yet done. A paused job can be resumed or
 * cancelled; a running one of another kind is cancelled (it stays resumable too).
 */
const PAUSABLE: ReadonlySet<Job['kind']> = new Set(['mtg']);

function progressLine(job: Job): string {
  const parts: string[] = [];
  parts.push(
    job.total === null
      ? `${formatCount(job.done)} done`
      : `${formatCount(job.done)} of ${formatCount(job.total)}`,
  );
  if (job.status === 'running' && job.rate !== null && job.rate > 0) {
    parts.push(formatRate(job.rate));
    if (job.total !== null) parts.push(`${formatDuration((job.total - job.done) / job.rate)} left`);
  }
  if (job.finishedAt !== null && job.startedAt !== null)
    parts.push(`took ${formatDuration((job.finishedAt - job.startedAt) / 1000)}`);
  return parts.join(' · ');
}

function JobCard({ job }: { job: Job }): React.JSX.Element {
  const { upsert } = useJobs();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const pct = job.total ? Math.min(100, (job.done / job.total) * 100) : isJobFinished(job.status) ? 100 : 0;
  const act = async (what: 'pause' | 'cancel' | 'resume'): Promise<void> => {
    setBusy(true);
    try {
      upsert(await invoke(`jobs:${what}`, { id: job.id }));
    } catch (err) {
      notifications.show({ color: 'red', title: `Could not ${what} the job`, message: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  const active = isActive(job);
  const pausable = PAUSABLE.has(job.kind);
  const paused = job.status === 'paused';
  return (
    <Card padding="md" data-testid="job" data-job-id={job.id} data-status={job.status}>
      <Group justify="space-between" wrap="nowrap" align="flex-start">
        <Stack gap={2} style={{ minWidth: 0 }}>
          <Group gap="xs" wrap="nowrap">
            <Text fw={650} truncate="end" data-testid="job-title">
              {job.title}
            </Text>
            <Badge color={JOB_STATUS_COLOR[job.status]} variant="light" data-testid="job-status">
              {JOB_STATUS_LABEL[job.status]}
            </Badge>
          </Group>
          <Text size="xs" c="dimmed">
            #{job.id} · {job.kind} · started {formatTime(job.startedAt ?? job.createdAt)}
            {job.attempts > 1 ? ` · attempt ${job.attempts}` : ''}
          </Text>
        </Stack>
        <Group gap="xs" wrap="nowrap">
          {active && pausable && (
            <Button
              size="xs"
              variant="default"
              leftSection={<IconPlayerPause size={14} />}
              loading={busy}
              onClick={() => void act('pause')}
              data-testid="job-pause"
            >
              Pause
            </Button>
          )}
          {((active && !pausable) || paused) && (
            <Button
              size="xs"
              variant="default"
              color="red"
              leftSection={<IconPlayerStop size={14} />}
              loading={busy}
              onClick={() => void act('cancel')}
              data-testid="job-cancel"
            >
              Cancel
            </Button>
          )}
          {(job.status === 'failed' || job.status === 'cancelled' || paused) && (
            <Button
              size="xs"
              variant="light"
              leftSection={<IconPlayerPlay size={14} />}
              loading={busy}
              onClick={() => void act('resume')}
              data-testid="job-resume"
            >
              Resume
            </Button>
          )}
        </Group>
      </Group>

      <Progress.Root size="lg" mt="md" radius="xl">
        <Progress.Section
          value={job.total === null && active ? 100 : pct}
          color={JOB_STATUS_COLOR[job.status]}
          striped={active}
          animated={active}
          aria-label={`${job.title} progress`}
          data-testid="job-progress"
          data-value={Math.round(pct)}
        />
      </Progress.Root>
      <Group justify="space-between" mt={6}>
        <Text
          size="sm"
          c="dimmed"
          style={{ fontVariantNumeric: 'tabular-nums' }}
          data-testid="job-progress-text"
        >
          {progressLine(job)}
        </Text>
        {job.total !== null && (
          <Text size="sm" fw={600} style={{ fontVariantNumeric: 'tabular-nums' }}>
            {Math.floor(pct)}%
          </Text>
        )}
      </Group>
      {job.message && (job.status === 'running' || pausable) && (
        <Text size="sm" mt={4} truncate="end" data-testid="job-message">
          {/* An ETA said while running means nothing once the job has stopped. */}
          {job.status === 'running' ? job.message : job.message.replace(/ · ETA [^·]*$/, '')}
        </Text>
      )}
      {job.kind === 'mtg' && <MtgSpend job={job} />}
      {paused && (
        <Text size="sm" mt={4} c="dimmed" data-testid="job-paused-note">
          {job.kind === 'mtg'
            ? 'Paused. Every image finished so far keeps its stored Q&A rounds and caption; Resume continues with the rest. Answers already received are not paid for again; calls that were in flight when it paused are asked again.'
            : 'Paused. What is done so far is kept; Resume continues with the rest.'}
        </Text>
      )}
      {job.error && (
        <Alert color="red" mt="sm" icon={<IconAlertTriangle size={18} />} data-testid="job-error" p="xs">
          {job.error}
        </Alert>
      )}
      {job.issueCount > 0 && (
        <>
          <Button
            variant="subtle"
            size="compact-sm"
            mt="sm"
            color={job.status === 'failed' || job.status === 'done-with-failures' ? 'red' : 'yellow'}
            leftSection={open ? <IconChevronDown size={14} /> : <IconChevronRight size={14} />}
            onClick={() => setOpen((o) => !o)}
            data-testid="job-issues-toggle"
          >
            {formatCount(job.issueCount)} issue{job.issueCount === 1 ? '' : 's'}
          </Button>
          <Collapse expanded={open}>{open && <Issues job={job} />}</Collapse>
        </>
      )}
    </Card>
  );
}

export function JobsView(): React.JSX.Element {
  const { jobs, loading, error } = useJobs();
  const running = jobs.filter(isActive).length;
  return (
    <Stack gap="md" style={{ flex: 1, minHeight: 0 }}>
      <div>
        <Title order={2}>Jobs</Title>
        <Text c="dimmed" size="sm">
          {running > 0 ? `${running} running · ` : ''}
          {formatCount(jobs.length)} job{jobs.length === 1 ? '' : 's'} · jobs survive restarts and can be
          resumed
        </Text>
      </div>
      {error && (
        <Alert color="red" icon={<IconAlertTriangle size={18} />} title="Could not load jobs">
          {error}
        </Alert>
      )}
      <ScrollArea style={{ flex: 1 }} offsetScrollbars>
        <Stack gap="sm" pb="md" data-testid="jobs-list">
          {loading &&
            jobs.length === 0 &&
            [0, 1, 2].map((i) => <Skeleton key={i} height={110} radius="md" />)}
          {!loading && jobs.length === 0 && !error && (
            <EmptyState
              mt="xl"
              size="lg"
              variant="light"
              icon={<IconListDetails size={36} stroke={1.4} />}
              title="No jobs yet"
              description="Imports, embedding, caption generation and exports run here as jobs, with live progress. Start one with Import in the Library."
              data-testid="jobs-empty"
            />
          )}
          {jobs.map((job) => (
            <JobCard key={job.id} job={job} />
          ))}
        </Stack>
      </ScrollArea>
    </Stack>
  );
}
