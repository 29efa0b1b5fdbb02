// The team on this server (issue 13.3–4), for reviewers and admins: each person's decisions, mix and
// pace; agreement on the double-review share (Cohen's κ on accept/reject, overall and per pair); the
// disagreements waiting for adjudication, settled here; and (admins) the share itself.
import { Badge, Button, Card, Group, NumberInput, Stack, Table, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { asCaptionId } from '#shared/ids';
import { invoke } from '../../lib/api';
import { useQuery } from '@tanstack/react-query';
import { reviewQueries } from '../../lib/queries';
import { useInvalidate } from '../../lib/serverState';
import { useSession } from '../../lib/session';

const kappa = (k: number | null): string => (k === null ? '—' : k.toFixed(2));

export function TeamPanel(): React.JSX.Element | null {
  const me = useSession();
  const allowed = me !== null && me.role !== 'annotator';
  const dash = useQuery({ ...reviewQueries.team(), enabled: allowed });
  const queue = useQuery({ ...reviewQueries.adjudications(), enabled: allowed });
  const invalidate = useInvalidate();
  // A settled vote or a new share changes both the figures and the queue.
  const refresh = (): void => invalidate('team:dashboard', 'review:adjudications');
  const [share, setShare] = useState<number | string>('');
  if (!allowed) return null;
  const d = dash.data;
  const fail = (err: unknown): void => {
    notifications.show({ color: 'red', message: err instanceof Error ? err.message : String(err) });
  };
  const settle = (captionId: number, decision: 'accept' | 'reject'): void => {
    invoke('review:adjudicate', { captionId: asCaptionId(captionId), decision }).then(refresh, fail);
  };
  return (
    <Card padding="md" data-testid="team-panel">
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={5}>Team</Title>
          <Button size="xs" variant="default" onClick={refresh}>
            Refresh
          </Button>
        </Group>
        {d && (
          <Text size="sm" c="dimmed">
            {d.pending} pending · {d.leased} being reviewed now · {d.adjudications} waiting for adjudication ·
            double review on {Math.round(d.agreement.share * 100)} % · agreement κ{' '}
            <span data-testid="team-kappa">{kappa(d.agreement.overall.kappa)}</span> over{' '}
            {d.agreement.overall.n} pairs
          </Text>
        )}
        <Table data-testid="team-people">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Person</Table.Th>
              <Table.Th>Decisions</Table.Th>
              <Table.Th>Accept / reject / edit</Table.Th>
              <Table.Th>Blind votes</Table.Th>
              <Table.Th>Last hour</Table.Th>
              <Table.Th>Per hour</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(d?.people ?? []).map((p) => (
              <Table.Tr key={p.reviewer}>
                <Table.Td>{p.reviewer}</Table.Td>
                <Table.Td>{p.decisions}</Table.Td>
                <Table.Td>
                  {p.accepts} / {p.rejects} / {p.edits}
                </Table.Td>
                <Table.Td>{p.votes}</Table.Td>
                <Table.Td>{p.lastHour}</Table.Td>
                <Table.Td>{p.perHour}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {(d?.agreement.pairs.length ?? 0) > 0 && (
          <Text size="sm">
            Per pair:{' '}
            {d!.agreement.pairs
              .map((p) => `${p.a} & ${p.b}: κ ${kappa(p.kappa)} (${p.agreed}/${p.n})`)
              .join(' · ')}
          </Text>
        )}
        <Title order={6}>Adjudication</Title>
        {(queue.data ?? []).length === 0 && (
          <Text size="sm" c="dimmed">
            No disagreements waiting.
          </Text>
        )}
        {(queue.data ?? []).map((q) => (
          <Group key={q.captionId} gap="xs" data-testid="adjudication-item">
            <Text size="sm">Caption {q.captionId}:</Text>
            {q.votes.map((v) => (
              <Badge key={v.reviewer} color={v.decision === 'accept' ? 'green' : 'red'} variant="light">
                {v.reviewer}: {v.decision}
              </Badge>
            ))}
            <Button size="xs" color="green" variant="light" onClick={() => settle(q.captionId, 'accept')}>
              Accept
            </Button>
            <Button size="xs" color="red" variant="light" onClick={() => settle(q.captionId, 'reject')}>
              Reject
            </Button>
          </Group>
        ))}
        {me.role === 'admin' && (
          <Group align="end" gap="xs">
            <NumberInput
              label="Double-review share (%)"
              min={0}
              max={100}
              w={200}
              value={share}
              onChange={setShare}
              placeholder={d ? String(Math.round(d.agreement.share * 100)) : ''}
            />
            <Button
              size="sm"
              variant="default"
              disabled={share === ''}
              onClick={() => invoke('team:setShare', { share: Number(share) / 100 }).then(refresh, fail)}
            >
              Set
            </Button>
          </Group>
        )}
      </Stack>
    </Card>
  );
}
