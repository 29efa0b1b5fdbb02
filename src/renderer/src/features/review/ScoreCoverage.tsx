// How much of a queue has a CLIP score ("412 of 1,000 scored") and a "Score all" button that starts the
// score job. The desk scores a caption when it is opened; the score filter and the dashboard's chart need
// every caption scored, which is what the job does. Shown in the review filter bar and on the dashboard.
import { Anchor, Button, Group, Text, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconGauge } from '@tabler/icons-react';
import { useState } from 'react';
import type { ReviewFilter } from '#shared/review/types';
import { routeHref } from '../../app/router';
import { invoke } from '../../lib/api';
import { formatCount } from '../../lib/format';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../../lib/hooks';
import { reviewQueries } from '../../lib/queries';
import { isActive, useJobs } from '../../lib/jobs';

/** The part of a queue filter the score job understands: it scores a superset of the queue, never less. */
const jobScope = (
  f: ReviewFilter,
): { datasetId?: ReviewFilter['datasetId']; statuses?: ReviewFilter['statuses'] } => ({
  datasetId: f.datasetId,
  statuses: f.statuses && f.statuses.length > 0 ? f.statuses : undefined,
});

export function ScoreCoverage({
  filter,
  testId = 'score-coverage',
}: {
  filter: ReviewFilter;
  testId?: string;
}): React.JSX.Element | null {
  // Scores land while the score job runs; embeddings and edits change what can be scored (lib/queries.ts).
  const coverage = useQuery(reviewQueries.scoreCoverage(filter));
  const { jobs, upsert } = useJobs();
  const [starting, setStarting] = useState(false);
  const running = jobs.find((j) => j.kind === 'score' && isActive(j)) ?? null;

  const c = coverage.data;
  if (!c) return null;
  if (!c.model) {
    return (
      <Text size="xs" c="dimmed" data-testid={testId}>
        No CLIP scores: register a CLIP model and embed the images in{' '}
        <Anchor size="xs" href={routeHref('settings')}>
          Settings → Models
        </Anchor>{' '}
        (or <code>ctgi embed</code>), then score the captions here.
      </Text>
    );
  }
  const unscored = c.total - c.scored - c.withoutVector;
  const start = async (): Promise<void> => {
    setStarting(true);
    try {
      const r = await invoke('review:scoreAll', jobScope(filter));
      upsert(r.job);
      notifications.show({
        color: 'indigo',
        title: 'Scoring started',
        message: `${formatCount(r.toScore)} captions with “${c.model!.name}”. Follow it in Jobs.`,
      });
    } catch (err) {
      notifications.show({ color: 'red', title: 'Could not start scoring', message: errorMessage(err) });
    } finally {
      setStarting(false);
    }
  };
  return (
    <Group gap={6} wrap="nowrap" data-testid={testId}>
      <Tooltip label={`CLIP image–text score with “${c.model.name}”, the model the score filter uses`}>
        <Text size="sm" c="dimmed" data-testid={`${testId}-text`}>
          {formatCount(c.scored)} of {formatCount(c.total)} scored
        </Text>
      </Tooltip>
      {c.withoutVector > 0 && (
        <Tooltip
          label={`Their images have no vector from “${c.model.name}”: embed them in Settings → Models first.`}
        >
          <Text size="xs" c="orange" data-testid={`${testId}-missing`}>
            ({formatCount(c.withoutVector)} not embedded)
          </Text>
        </Tooltip>
      )}
      {running ? (
        <Anchor size="xs" href={routeHref('jobs')} data-testid={`${testId}-running`}>
          scoring… {formatCount(running.done)}/{running.total === null ? '?' : formatCount(running.total)}
        </Anchor>
      ) : (
        unscored > 0 && (
          <Button
            size="xs"
            variant="light"
            leftSection={<IconGauge size={14} />}
            loading={starting}
            onClick={() => void start()}
            data-testid={`${testId}-start`}
          >
            Score all
          </Button>
        )
      )}
    </Group>
  );
}
