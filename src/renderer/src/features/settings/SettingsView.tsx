import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  Modal,
  ScrollArea,
  SimpleGrid,
  Skeleton,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import type { Dataset } from '#shared/library/types';
import { ColorSchemeSelector } from '../../app/ColorSchemeControl';
import { invoke } from '../../lib/api';
import { formatCount, formatTime } from '../../lib/format';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../../lib/hooks';
import { LIBRARY_CHANNELS, libraryQueries } from '../../lib/queries';
import { useInvalidate } from '../../lib/serverState';
import { useAction } from '../../lib/useAction';
import { DATASET_FORMAT_LABEL, DATASET_STATUS_COLOR, LAYOUT_LABEL } from '../../lib/labels';
import { ModelsSettings } from '../search/ModelsSettings';
import { EndpointsSettings } from '../endpoints/EndpointsSettings';
import { PromptsSettings } from '../prompts/PromptsSettings';
import { VideoToolsSettings } from '../footage/VideoToolsSettings';
import { PeopleSettings } from './PeopleSettings';

function StatCard({
  label,
  value,
  hint,
}: {
  label: string;
  value: number;
  hint?: string;
}): React.JSX.Element {
  return (
    <Card padding="md">
      <Text size="xs" c="dimmed" tt="uppercase" fw={650} style={{ letterSpacing: '0.04em' }}>
        {label}
      </Text>
      <Text size="xl" fw={700} mt={4} style={{ fontVariantNumeric: 'tabular-nums' }}>
        {formatCount(value)}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed" mt={2}>
          {hint}
        </Text>
      )}
    </Card>
  );
}

function DeleteDataset({
  dataset,
  onClose,
  onDeleted,
}: {
  dataset: Dataset | null;
  onClose: () => void;
  onDeleted: () => void;
}): React.JSX.Element {
  const { busy, error, setError, run } = useAction();
  const confirm = async (): Promise<void> => {
    if (!dataset) return;
    await run(async () => {
      await invoke('datasets:delete', { id: dataset.id });
      notifications.show({ color: 'teal', title: 'Dataset deleted', message: dataset.name });
      onDeleted();
      onClose();
    });
  };
  return (
    <Modal
      opened={dataset !== null}
      onClose={() => {
        setError(null);
        onClose();
      }}
      title={<Text fw={650}>Delete “{dataset?.name}”?</Text>}
      centered
    >
      <Stack>
        <Text size="sm">
          This removes its {formatCount(dataset?.imageCount ?? 0)} images,{' '}
          {formatCount(dataset?.captionCount ?? 0)} captions and their review history from the workspace. The
          image files on disk are not touched.
        </Text>
        {error && (
          <Alert color="red" icon={<IconAlertTriangle size={18} />} data-testid="delete-error">
            {error}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Keep it
          </Button>
          <Button color="red" loading={busy} onClick={() => void confirm()} data-testid="delete-confirm">
            Delete dataset
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

function Workspace(): React.JSX.Element {
  const stats = useQuery(libraryQueries.stats());
  const datasets = useQuery(libraryQueries.datasets());
  const invalidate = useInvalidate();
  const [toDelete, setToDelete] = useState<Dataset | null>(null);
  const s = stats.data;
  const captions = s ? Object.values(s.captions).reduce((a, b) => a + b, 0) : 0;
  return (
    <Stack gap="md">
      {stats.error && (
        <Alert color="red" title="Could not load workspace statistics">
          {errorMessage(stats.error)}
        </Alert>
      )}
      {s ? (
        <SimpleGrid cols={{ base: 2, md: 4 }} data-testid="workspace-stats">
          <StatCard label="Datasets" value={s.datasets} />
          <StatCard
            label="Images"
            value={s.images}
            hint={`${formatCount(s.imagesBySplit.train)} train · ${formatCount(s.imagesBySplit.val)} val · ${formatCount(s.imagesBySplit.test)} test`}
          />
          <StatCard label="Identities" value={s.identities} />
          <StatCard
            label="Captions"
            value={captions}
            hint={`${formatCount(s.captions.accepted)} accepted · ${formatCount(s.captions.pending)} pending`}
          />
        </SimpleGrid>
      ) : (
        !stats.error && (
          <SimpleGrid cols={{ base: 2, md: 4 }}>
            {[0, 1, 2, 3].map((i) => (
              <Skeleton key={i} height={86} radius="md" />
            ))}
          </SimpleGrid>
        )
      )}

      <Card padding={0}>
        <Group justify="space-between" p="md" pb="xs">
          <Text fw={650}>Datasets</Text>
        </Group>
        {datasets.error && (
          <Alert color="red" m="md">
            {errorMessage(datasets.error)}
          </Alert>
        )}
        {datasets.data && datasets.data.length === 0 && (
          <Text c="dimmed" size="sm" p="md" pt={0}>
            No datasets yet. Use Import in the Library to add one.
          </Text>
        )}
        {datasets.data && datasets.data.length > 0 && (
          <ScrollArea>
            <Table verticalSpacing="sm" horizontalSpacing="md" highlightOnHover data-testid="datasets-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Format</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th ta="right">Images</Table.Th>
                  <Table.Th ta="right">Identities</Table.Th>
                  <Table.Th ta="right">Captions</Table.Th>
                  <Table.Th>Added</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {datasets.data.map((d) => (
                  <Table.Tr key={d.id} data-testid="dataset-row">
                    <Table.Td fw={600}>{d.name}</Table.Td>
                    <Table.Td data-testid="dataset-format">
                      {d.layout ? LAYOUT_LABEL[d.layout] : DATASET_FORMAT_LABEL[d.format]}
                    </Table.Td>
                    <Table.Td>
                      <Badge variant="light" color={DATASET_STATUS_COLOR[d.status]}>
                        {d.status}
                      </Badge>
                    </Table.Td>
                    <Table.Td ta="right" style={{ fontVariantNumeric: 'tabular-nums' }}>
                      {formatCount(d.imageCount)}
                    </Table.Td>
                    <Table.Td ta="right" style={{ fontVariantNumeric: 'tabular-nums' }}>
                      {formatCount(d.identityCount)}
                    </Table.Td>
                    <Table.Td ta="right" style={{ fontVariantNumeric: 'tabular-nums' }}>
                      {formatCount(d.captionCount)}
                    </Table.Td>
                    <Table.Td c="dimmed">{formatTime(d.createdAt)}</Table.Td>
                    <Table.Td ta="right">
                      <Button
                        size="xs"
                        variant="subtle"
                        color="red"
                        leftSection={<IconTrash size={14} />}
                        onClick={() => setToDelete(d)}
                        data-testid="dataset-delete"
                      >
                        Delete
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea>
        )}
      </Card>
      <DeleteDataset
        dataset={toDelete}
        onClose={() => setToDelete(null)}
        onDeleted={() => invalidate(...LIBRARY_CHANNELS)}
      />
    </Stack>
  );
}

export function SettingsView(): React.JSX.Element {
  return (
    <ScrollArea style={{ flex: 1 }} offsetScrollbars>
      <Stack gap="xl" maw={1100} pb="xl">
        <Title order={2}>Settings</Title>
        <Stack gap="xs">
          <Title order={4}>Appearance</Title>
          <Text size="sm" c="dimmed">
            Theme for this browser or window; “System” follows the operating system.
          </Text>
          <div>
            <ColorSchemeSelector />
          </div>
        </Stack>
        <Stack gap="xs" id="people">
          <Title order={4}>People</Title>
          <Text size="sm" c="dimmed">
            Who may use this server through a browser, each with their own link and role. The desktop app and
            the URL that <code>ctgi serve</code> prints are the owner, an admin.
          </Text>
          <PeopleSettings />
        </Stack>
        <Stack gap="xs">
          <Title order={4}>Workspace</Title>
          <Workspace />
        </Stack>
        <Stack gap="xs">
          <Title order={4}>Models</Title>
          <Text size="sm" c="dimmed">
            CLIP models for search and evaluation, and the embed jobs that prepare a dataset for them.
          </Text>
          <ModelsSettings />
        </Stack>
        <Stack gap="xs" id="endpoints">
          <Title order={4}>MLLM endpoints</Title>
          <Text size="sm" c="dimmed">
            OpenAI-compatible servers for caption generation (MTG) and search refinement (MTI). The
            question-answering (VQA) model and the reconstructor can be different endpoints. Probe one to
            check it before a batch.
          </Text>
          <EndpointsSettings />
        </Stack>
        <Stack gap="xs">
          <Title order={4}>Prompts</Title>
          <Text size="sm" c="dimmed">
            Versioned MTG prompt sets: the captioning prompt, the question pool and the reconstruction prompt.
            Every run records the version it used.
          </Text>
          <PromptsSettings />
        </Stack>
        <Stack gap="xs" id="video-tools">
          <Title order={4}>Video tools</Title>
          <Text size="sm" c="dimmed">
            The FFmpeg and ffprobe that footage jobs and the frame viewer run on this machine.
          </Text>
          <VideoToolsSettings />
        </Stack>
      </Stack>
    </ScrollArea>
  );
}
