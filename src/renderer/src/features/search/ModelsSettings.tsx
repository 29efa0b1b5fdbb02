// Settings → Models: the registered CLIP models with what search needs to know about them (vector
// size, context length, tokenizer, how many images they have embedded), registering a model folder,
// and starting an embed job for a dataset.
import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  ScrollArea,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Tooltip,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconFolderPlus, IconInfoCircle, IconSparkles } from '@tabler/icons-react';
import { useEffect, useRef, useState } from 'react';
import type { ClipModel } from '#shared/models/types';
import type { Dataset } from '#shared/library/types';
import type { DatasetId } from '#shared/ids';
import { useRoute } from '../../app/router';
import { invoke } from '../../lib/api';
import { formatCount, formatTime } from '../../lib/format';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../../lib/hooks';
import { libraryQueries, searchQueries } from '../../lib/queries';
import { useInvalidate } from '../../lib/serverState';
import { useAction } from '../../lib/useAction';
import { useEmbed } from './useEmbed';

function RegisterForm({ onRegistered }: { onRegistered: () => void }): React.JSX.Element {
  const [folder, setFolder] = useState('');
  const [name, setName] = useState('');
  const { busy, error, run } = useAction();
  const register = async (): Promise<void> => {
    await run(async () => {
      const m = await invoke('models:register', { folder: folder.trim(), name: name.trim() || undefined });
      notifications.show({
        color: 'teal',
        title: 'Model registered',
        message: `${m.name}: ${m.embeddingDim}-d, ${m.contextLength} tokens`,
      });
      setFolder('');
      setName('');
      onRegistered();
    });
  };
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void register();
      }}
    >
      <Stack gap="xs">
        <Group align="flex-end" gap="sm" wrap="nowrap">
          <TextInput
            label="Model folder"
            description="Absolute path on the machine running CTGI: vision_model.onnx, text_model.onnx, ctgi-model.json"
            placeholder="/data/models/irra-vitb16"
            value={folder}
            onChange={(e) => setFolder(e.currentTarget.value)}
            style={{ flex: 1 }}
            data-testid="model-folder"
          />
          <TextInput
            label="Name"
            description="Optional"
            placeholder="from the manifest"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            w={200}
            data-testid="model-name"
          />
          <Button
            type="submit"
            loading={busy}
            disabled={folder.trim() === ''}
            leftSection={<IconFolderPlus size={16} />}
            data-testid="model-register"
          >
            Register
          </Button>
        </Group>
        {error && (
          <Alert
            color="red"
            icon={<IconAlertTriangle size={18} />}
            title="The folder cannot be used"
            style={{ whiteSpace: 'pre-wrap' }}
            data-testid="model-register-error"
          >
            {error}
          </Alert>
        )}
      </Stack>
    </form>
  );
}

function EmbedCell({ model, datasets }: { model: ClipModel; datasets: Dataset[] }): React.JSX.Element {
  const [dataset, setDataset] = useState('');
  const embed = useEmbed();
  const job = embed.running;
  return (
    <Group gap={6} wrap="nowrap" justify="flex-end">
      <Select
        aria-label={`Dataset to embed with ${model.name}`}
        size="xs"
        w={170}
        data={[
          { value: '', label: 'All datasets' },
          ...datasets.map((d) => ({ value: String(d.id), label: d.name })),
        ]}
        value={dataset}
        onChange={(v) => setDataset(v ?? '')}
        allowDeselect={false}
        data-testid="model-embed-dataset"
      />
      <Tooltip label="Embeds the images that have no vector from this model yet">
        <Button
          size="xs"
          variant="light"
          leftSection={<IconSparkles size={14} />}
          loading={embed.starting}
          disabled={job !== null}
          onClick={() => void embed.start(model.id, dataset ? (Number(dataset) as DatasetId) : undefined)}
          data-testid="model-embed"
        >
          {job ? `${formatCount(job.done)} / ${job.total === null ? '…' : formatCount(job.total)}` : 'Embed'}
        </Button>
      </Tooltip>
    </Group>
  );
}

export function ModelsSettings(): React.JSX.Element {
  // Embedded counts move with an embed job and with the library (lib/queries.ts).
  const models = useQuery(searchQueries.models());
  const datasets = useQuery(libraryQueries.datasets());
  const invalidate = useInvalidate();
  const { params } = useRoute();
  const ref = useRef<HTMLDivElement>(null);
  // Search's "register a model" link lands here.
  const wanted = params.get('section') === 'models';
  useEffect(() => {
    if (wanted) ref.current?.scrollIntoView({ block: 'start' });
  }, [wanted]);

  return (
    <Stack gap="md" ref={ref} data-testid="models-settings">
      {models.error && <Alert color="red">{errorMessage(models.error)}</Alert>}
      <Card padding={0}>
        {models.data && models.data.length === 0 && (
          <Text c="dimmed" size="sm" p="md">
            No models yet. Register a CLIP model folder below (`ctgi synth` writes a toy CLIP into its output
            folder, under toy-clip/).
          </Text>
        )}
        {models.data && models.data.length > 0 && (
          <ScrollArea>
            <Table verticalSpacing="sm" horizontalSpacing="md" data-testid="models-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th ta="right">Vector</Table.Th>
                  <Table.Th ta="right">Context</Table.Th>
                  <Table.Th>Input</Table.Th>
                  <Table.Th>Tokenizer</Table.Th>
                  <Table.Th ta="right">Embedded</Table.Th>
                  <Table.Th>Added</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {models.data.map((m) => (
                  <Table.Tr key={m.id} data-testid="model-row">
                    <Table.Td>
                      <Group gap={6} wrap="nowrap">
                        <Text fw={600} size="sm">
                          {m.name}
                        </Text>
                        {m.notes.length > 0 && (
                          <Tooltip
                            multiline
                            w={360}
                            label={m.notes.join('\n')}
                            style={{ whiteSpace: 'pre-wrap' }}
                          >
                            <IconInfoCircle size={14} color="var(--mantine-color-dimmed)" />
                          </Tooltip>
                        )}
                      </Group>
                      <Text size="xs" c="dimmed" ff="monospace" truncate="end" maw={300} title={m.folder}>
                        {m.folder}
                      </Text>
                    </Table.Td>
                    <Table.Td ta="right" style={{ fontVariantNumeric: 'tabular-nums' }}>
                      {m.embeddingDim}-d
                    </Table.Td>
                    <Table.Td ta="right">
                      <Group gap={4} justify="flex-end" wrap="nowrap">
                        {m.contextLength > 77 && (
                          <Badge size="xs" variant="light" color="grape">
                            long
                          </Badge>
                        )}
                        <Text size="sm" style={{ fontVariantNumeric: 'tabular-nums' }}>
                          {m.contextLength} tok
                        </Text>
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">
                        {m.imageSize[0]}×{m.imageSize[1]} · {m.resize === 'irra' ? 'stretch' : 'crop'}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" c="dimmed">
                        {m.tokenizer}
                      </Text>
                    </Table.Td>
                    <Table.Td
                      ta="right"
                      style={{ fontVariantNumeric: 'tabular-nums' }}
                      data-testid="model-embedded"
                    >
                      {formatCount(m.embeddedImages)}
                    </Table.Td>
                    <Table.Td c="dimmed">{formatTime(m.createdAt)}</Table.Td>
                    <Table.Td>
                      <EmbedCell model={m} datasets={datasets.data ?? []} />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea>
        )}
      </Card>
      <Text size="xs" c="dimmed">
        ONNX Runtime tries WebGPU, then CUDA (when installed), then CPU; the provider in use is shown with
        each search and embed job.
      </Text>
      <RegisterForm onRegistered={() => invalidate('models:list')} />
    </Stack>
  );
}
