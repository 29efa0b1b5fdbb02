// Saved MTI searches, newest first: reopen one with its transcript, or delete it.
import { ActionIcon, Badge, Button, Modal, Table, Text, Tooltip } from '@mantine/core';
import { IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import type { MtiSearchSummary } from '#shared/mti/types';
import { invoke } from '../../lib/api';
import { formatTime } from '../../lib/format';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../../lib/hooks';
import { mtiQueries } from '../../lib/queries';
import { useInvalidate } from '../../lib/serverState';

const STATUS: Record<MtiSearchSummary['status'], string> = {
  running: 'blue',
  done: 'teal',
  fallback: 'orange',
  cancelled: 'gray',
};

export function SavedSearches({
  opened,
  onClose,
  onOpen,
}: {
  opened: boolean;
  onClose: () => void;
  onOpen: (id: number) => void;
}): React.JSX.Element {
  // Fetched again each time the list opens (a search saved meanwhile is stale: useMtiSearch says so).
  const list = useQuery({ ...mtiQueries.saved(200), enabled: opened });
  const invalidate = useInvalidate();
  const [error, setError] = useState<string | null>(null);
  const rows = list.data ?? [];
  return (
    <Modal opened={opened} onClose={onClose} title="Saved searches" size="xl" data-testid="mti-saved-modal">
      {(error ?? list.error) && (
        <Text c="red" size="sm" mb="sm">
          {error ?? errorMessage(list.error)}
        </Text>
      )}
      {list.data && rows.length === 0 ? (
        <Text c="dimmed" size="sm">
          No MTI search yet. Type a description and press “Ask the MLLM”.
        </Text>
      ) : (
        <Table highlightOnHover verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Query → refined</Table.Th>
              <Table.Th>Model</Table.Th>
              <Table.Th>Rounds</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Updated</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((s) => (
              <Table.Tr
                key={s.id}
                style={{ cursor: 'pointer' }}
                onClick={() => {
                  onOpen(s.id);
                  onClose();
                }}
                data-testid="mti-saved-row"
                data-search-id={s.id}
              >
                <Table.Td maw={380}>
                  <Text size="sm" fw={500} lineClamp={1}>
                    {s.query}
                  </Text>
                  {s.refined && (
                    <Text size="xs" c="dimmed" lineClamp={2}>
                      → {s.refined}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{s.modelName}</Table.Td>
                <Table.Td>{s.rounds}</Table.Td>
                <Table.Td>
                  <Badge size="sm" variant="light" color={STATUS[s.status]}>
                    {s.status}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  <Text size="xs">{formatTime(s.updatedAt)}</Text>
                </Table.Td>
                <Table.Td>
                  <Tooltip label="Delete this search" withArrow>
                    <ActionIcon
                      variant="subtle"
                      color="red"
                      aria-label="Delete"
                      onClick={(e) => {
                        e.stopPropagation();
                        invoke('searches:delete', { id: s.id }).then(
                          () => invalidate('searches:list'),
                          (err: unknown) => setError(errorMessage(err)),
                        );
                      }}
                    >
                      <IconTrash size={15} />
                    </ActionIcon>
                  </Tooltip>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <Button variant="default" mt="md" onClick={onClose}>
        Close
      </Button>
    </Modal>
  );
}
