// What an MTG job has cost so far (paid tokens and USD, from the calls log at the endpoints' prices), and,
// in batch mode, each round's batch: submitted, in progress, done.
import { Badge, Group, Table, Text } from '@mantine/core';
import type { BatchRound } from '#shared/mtg/types';
import type { Job } from '#shared/jobs/types';
import { formatCount } from '../../lib/format';
import { useQuery } from '@tanstack/react-query';
import { mtgQueries } from '../../lib/queries';

const usd = (v: number | null): string =>
  v === null ? 'cost unknown (no price set)' : v < 0.01 && v > 0 ? `$${v.toFixed(5)}` : `$${v.toFixed(2)}`;

function stage(b: BatchRound): { label: string; color: string } {
  if (b.status === 'collected') return { label: 'done', color: 'teal' };
  if (b.status === 'submitted' || b.status === 'preparing') return { label: 'submitted', color: 'gray' };
  if (b.status === 'in_progress' || b.status === 'finalizing') return { label: 'in progress', color: 'blue' };
  return { label: b.status, color: 'yellow' };
}

export function MtgSpend({ job }: { job: Job }): React.JSX.Element | null {
  // Stale on the MTG job's progress (lib/queries.ts), so the figures follow the job as it runs.
  const spent = useQuery(mtgQueries.spend(job.id));
  const batches = useQuery(mtgQueries.batches(job.id));
  const line = spent.data?.[0];
  const rounds = batches.data ?? [];
  return (
    <>
      {line && (
        <Text
          size="sm"
          mt={4}
          c="dimmed"
          style={{ fontVariantNumeric: 'tabular-nums' }}
          data-testid="job-cost"
        >
          Paid: {formatCount(line.calls)} calls
          {line.batchCalls > 0 ? ` (${formatCount(line.batchCalls)} batched)` : ''} ·{' '}
          {formatCount(line.promptTokens + line.completionTokens)} tokens · {usd(line.costUsd)}
        </Text>
      )}
      {rounds.length > 0 && (
        <Table mt="xs" verticalSpacing={2} fz="xs" withRowBorders={false} data-testid="job-batches">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Round</Table.Th>
              <Table.Th>Batch</Table.Th>
              <Table.Th ta="right">Requests</Table.Th>
              <Table.Th ta="right">Answered</Table.Th>
              <Table.Th ta="right">Failed</Table.Th>
              <Table.Th>State</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody style={{ fontVariantNumeric: 'tabular-nums' }}>
            {rounds.map((b) => {
              const s = stage(b);
              return (
                <Table.Tr
                  key={`${b.round}.${b.try}`}
                  data-testid="job-batch"
                  data-round={b.round}
                  data-stage={s.label}
                >
                  <Table.Td>
                    {b.round}
                    {b.try > 1 ? ` (try ${b.try})` : ''}
                  </Table.Td>
                  <Table.Td>
                    <Text size="xs" ff="monospace">
                      {b.providerBatchId ?? '–'}
                    </Text>
                  </Table.Td>
                  <Table.Td ta="right">{formatCount(b.requests)}</Table.Td>
                  <Table.Td ta="right">{formatCount(b.completed)}</Table.Td>
                  <Table.Td ta="right">{formatCount(b.failed)}</Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      <Badge size="xs" variant="light" color={s.color}>
                        {s.label}
                      </Badge>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
    </>
  );
}
