// The servers of one endpoint (its base URL and its replicas): health as the serving process sees it,
// and what each did according to the calls log (calls, errors, mean latency, tokens).
import { Badge, Table, Text, Tooltip } from '@mantine/core';
import type { ReplicaFigures } from '#shared/llm/types';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../../lib/hooks';
import { endpointQueries } from '../../lib/queries';

function Health({ r }: { r: ReplicaFigures }): React.JSX.Element {
  if (r.healthy === null)
    return (
      <Tooltip label="Not called by this server yet; Probe checks every replica">
        <Badge color="gray" variant="light" data-testid="replica-health">
          unknown
        </Badge>
      </Tooltip>
    );
  return r.healthy ? (
    <Badge color="teal" variant="light" data-testid="replica-health">
      healthy
    </Badge>
  ) : (
    <Tooltip label={r.lastError ?? 'failing'}>
      <Badge color="red" variant="light" data-testid="replica-health">
        out · being probed
      </Badge>
    </Tooltip>
  );
}

export function ReplicaList({ name }: { name: string }): React.JSX.Element {
  // Health changes on the server's own schedule, with no event: asked again every 3 s while shown.
  const q = useQuery({ ...endpointQueries.replicas(name), refetchInterval: 3000 });
  if (q.error)
    return (
      <Text c="red" size="sm">
        {errorMessage(q.error)}
      </Text>
    );
  const rows = q.data ?? [];
  return (
    <Table withRowBorders={false} verticalSpacing={2} data-testid="replica-list" data-name={name}>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Server</Table.Th>
          <Table.Th>Health</Table.Th>
          <Table.Th ta="right">At once</Table.Th>
          <Table.Th ta="right">Calls</Table.Th>
          <Table.Th ta="right">Errors</Table.Th>
          <Table.Th ta="right">Mean latency</Table.Th>
          <Table.Th ta="right">Tokens</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody style={{ fontVariantNumeric: 'tabular-nums' }}>
        {rows.map((r) => (
          <Table.Tr key={r.baseUrl} data-testid="replica-row" data-url={r.baseUrl}>
            <Table.Td>
              <Text size="xs" ff="monospace">
                {r.baseUrl}
              </Text>
            </Table.Td>
            <Table.Td>
              <Health r={r} />
            </Table.Td>
            <Table.Td ta="right">
              <Text size="xs">
                {r.inFlight}/{r.concurrency}
              </Text>
            </Table.Td>
            <Table.Td ta="right">
              <Text size="xs" data-testid="replica-calls">
                {r.calls}
              </Text>
            </Table.Td>
            <Table.Td ta="right">
              <Text size="xs" c={r.errors > 0 ? 'red' : undefined} data-testid="replica-errors">
                {r.errors}
              </Text>
            </Table.Td>
            <Table.Td ta="right">
              <Text size="xs">{r.meanLatencyMs === null ? '–' : `${r.meanLatencyMs} ms`}</Text>
            </Table.Td>
            <Table.Td ta="right">
              <Text size="xs">{(r.promptTokens + r.completionTokens).toLocaleString()}</Text>
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
