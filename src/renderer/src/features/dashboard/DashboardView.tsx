// The review dashboard: where the queue stands (counts by status and source), how fast it moves
// (decisions per hour), and what the captions look like (length, attribute coverage, CLIP scores).
import { Card, Group, Select, SimpleGrid, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import type { CaptionStatus } from '#shared/library/types';
import { CAPTION_STATUSES } from '#shared/library/types';
import { asDatasetId } from '#shared/ids';
import { formatCount } from '../../lib/format';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../../lib/hooks';
import { libraryQueries, reviewQueries } from '../../lib/queries';
import { ScoreCoverage } from '../review/ScoreCoverage';
import { BarChart, ShareChart } from './charts';
import { TeamPanel } from './TeamPanel';

const STATUS_COLOR: Record<CaptionStatus, string> = {
  pending: 'var(--mantine-color-gray-5)',
  accepted: 'var(--mantine-color-teal-5)',
  rejected: 'var(--mantine-color-red-5)',
  flagged: 'var(--mantine-color-orange-5)',
};

function Stat({
  label,
  value,
  testId,
}: {
  label: string;
  value: string;
  testId?: string;
}): React.JSX.Element {
  return (
    <Card withBorder padding="sm">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={700} size="xl" data-testid={testId}>
        {value}
      </Text>
    </Card>
  );
}

export function DashboardView(): React.JSX.Element {
  const [dataset, setDataset] = useState<string | null>(null);
  const datasets = useQuery(libraryQueries.datasets());
  // Stale when the library changes (lib/queries.ts).
  const stats = useQuery(
    reviewQueries.stats({ datasetId: dataset ? asDatasetId(Number(dataset)) : undefined }),
  );
  const s = stats.data;
  return (
    <Stack gap="md" style={{ overflow: 'auto' }} data-testid="review-dashboard">
      <Group>
        <Select
          aria-label="Dataset"
          placeholder="All datasets"
          clearable
          w={220}
          data={(datasets.data ?? []).map((d) => ({ value: String(d.id), label: d.name }))}
          value={dataset}
          onChange={setDataset}
        />
        {stats.error && (
          <Text c="red" size="sm">
            {errorMessage(stats.error)}
          </Text>
        )}
      </Group>
      {s && (
        <>
          <SimpleGrid cols={{ base: 2, md: 5 }}>
            <Stat label="Captions" value={formatCount(s.total)} testId="dash-total" />
            {CAPTION_STATUSES.map((st) => (
              <Stat
                key={st}
                label={st[0]!.toUpperCase() + st.slice(1)}
                value={formatCount(s.byStatus[st])}
                testId={`dash-${st}`}
              />
            ))}
          </SimpleGrid>
          <SimpleGrid cols={{ base: 1, lg: 2 }}>
            <Card withBorder>
              <Text fw={600} size="sm" mb="xs">
                By status
              </Text>
              <BarChart
                testId="chart-status"
                bars={CAPTION_STATUSES.map((st) => ({
                  label: st,
                  value: s.byStatus[st],
                  color: STATUS_COLOR[st],
                }))}
              />
              <Text size="xs" c="dimmed" mt={4}>
                Sources: {formatCount(s.bySource.mtg)} generated, {formatCount(s.bySource.edited)} edited,{' '}
                {formatCount(s.bySource.human)} from datasets.
              </Text>
            </Card>
            <Card withBorder>
              <Group justify="space-between" mb="xs">
                <Text fw={600} size="sm">
                  Decisions per hour, last 24 hours
                </Text>
                <Text size="sm" c="dimmed" data-testid="dash-throughput">
                  {s.itemsPerHour === null
                    ? 'not enough decisions yet'
                    : `${formatCount(Math.round(s.itemsPerHour))} items/hour while reviewing`}
                </Text>
              </Group>
              <BarChart
                testId="chart-throughput"
                labelEvery={3}
                bars={s.perHour.map((h) => ({
                  label: `${new Date(h.hourStart).getHours()}h`,
                  value: h.count,
                  title: `${new Date(h.hourStart).toLocaleString()}: ${h.count}`,
                }))}
              />
            </Card>
            <Card withBorder>
              <Text fw={600} size="sm" mb="xs">
                Caption length (words)
              </Text>
              <BarChart
                testId="chart-length"
                labelEvery={Math.max(1, Math.ceil(s.lengthHistogram.length / 10))}
                bars={s.lengthHistogram.map((b) => ({
                  label: String(Math.round(b.from)),
                  value: b.count,
                  title: `${Math.round(b.from)}–${Math.round(b.to)} words: ${b.count}`,
                  color: 'var(--mantine-color-cyan-5)',
                }))}
              />
            </Card>
            <Card withBorder>
              <Text fw={600} size="sm" mb="xs">
                Attribute coverage (captions not rejected that mention it)
              </Text>
              <ShareChart
                testId="chart-attributes"
                bars={s.attributeCoverage.map((a) => ({
                  label: a.attribute,
                  value: a.share,
                  title: `${a.attribute}: ${a.count}`,
                }))}
              />
            </Card>
            <Card withBorder>
              <Group justify="space-between" mb="xs">
                <Text fw={600} size="sm">
                  CLIP image–text score{s.score ? ` (${s.score.model})` : ''}
                </Text>
                <ScoreCoverage
                  filter={dataset ? { datasetId: asDatasetId(Number(dataset)) } : {}}
                  testId="dash-score-coverage"
                />
              </Group>
              {s.score ? (
                <BarChart
                  testId="chart-score"
                  labelEvery={Math.max(1, Math.ceil(s.score.histogram.length / 8))}
                  bars={s.score.histogram.map((b) => ({
                    label: b.from.toFixed(2),
                    value: b.count,
                    title: `${b.from.toFixed(2)}–${b.to.toFixed(2)}: ${b.count}`,
                    color: 'var(--mantine-color-violet-5)',
                  }))}
                />
              ) : (
                <Text size="sm" c="dimmed">
                  No scores yet: they appear once a CLIP model has embedded the images, for captions opened in
                  the desk or scored with Score all.
                </Text>
              )}
            </Card>
          </SimpleGrid>
        </>
      )}
      <TeamPanel />
    </Stack>
  );
}
