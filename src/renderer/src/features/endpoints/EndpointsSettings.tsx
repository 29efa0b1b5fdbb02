// Settings → MLLM endpoints: the saved profiles (never their keys: only where the key is read from),
// adding and editing them, and a probe that says, check by check, whether a batch can use one.
import { Alert, Button, Card, Group, Modal, ScrollArea, Stack, Table, Text, Tooltip } from '@mantine/core';
import { IconAlertTriangle, IconEdit, IconPlugConnected, IconPlus, IconTrash } from '@tabler/icons-react';
import { Fragment, useCallback, useState } from 'react';
import type { KeyRef, LlmEndpoint } from '#shared/llm/types';
import { invoke } from '../../lib/api';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../../lib/hooks';
import { endpointQueries } from '../../lib/queries';
import { useInvalidate } from '../../lib/serverState';
import { useAction } from '../../lib/useAction';
import { ROLE_LABEL } from '../../lib/labels';
import { ProbeResult, type ProbeState } from '../../lib/ProbeResult';
import { EndpointForm, hasSafeStorage } from './EndpointForm';
import { ReplicaList } from './ReplicaList';

export function keySource(ref: KeyRef): string {
  switch (ref.kind) {
    case 'none':
      return 'none';
    case 'env':
      return `$${ref.name}`;
    case 'file':
      return ref.path;
    case 'safe-storage':
      return 'app keychain';
  }
}

function DeleteEndpoint({
  endpoint,
  onClose,
  onDeleted,
}: {
  endpoint: LlmEndpoint | null;
  onClose: () => void;
  onDeleted: () => void;
}): React.JSX.Element {
  const { busy, error, run } = useAction();
  const confirm = async (): Promise<void> => {
    if (!endpoint) return;
    await run(async () => {
      await invoke('endpoints:delete', { name: endpoint.name });
      onDeleted();
      onClose();
    });
  };
  return (
    <Modal
      opened={endpoint !== null}
      onClose={onClose}
      title={<Text fw={650}>Delete “{endpoint?.name}”?</Text>}
      centered
    >
      <Stack>
        <Text size="sm">
          The profile goes{endpoint?.keyRef.kind === 'safe-storage' ? ', with its key in the keychain' : ''}.
          Captions and Q&A rounds already made with it are kept, and still name the model that made them.
        </Text>
        {error && <Alert color="red">{error}</Alert>}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Keep it
          </Button>
          <Button
            color="red"
            loading={busy}
            onClick={() => void confirm()}
            data-testid="endpoint-delete-confirm"
          >
            Delete endpoint
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/**
 * The way out when the keychain file is damaged (saving or using a stored key then says so): the old file
 * is moved aside, never deleted, and keys are entered again. Desktop app only: nothing is stored elsewhere.
 */
function ResetKeychain({ opened, onClose }: { opened: boolean; onClose: () => void }): React.JSX.Element {
  const { busy, error, run } = useAction();
  const [done, setDone] = useState<string | null>(null);
  const confirm = async (): Promise<void> => {
    await run(async () => {
      const { keptAs } = await invoke('endpoints:reset-key-store', {});
      setDone(
        keptAs === null
          ? 'There was no keychain file; nothing to reset.'
          : `The old file is kept as ${keptAs}.`,
      );
    });
  };
  const close = (): void => {
    setDone(null);
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title={<Text fw={650}>Reset the app keychain?</Text>} centered>
      <Stack>
        <Text size="sm">
          Every API key stored in the app keychain is forgotten; endpoints that use one need their key entered
          again (Edit). Use this when the app says its keychain file is damaged. The old file is kept aside,
          not deleted.
        </Text>
        {error && <Alert color="red">{error}</Alert>}
        {done && (
          <Alert color="green" data-testid="keychain-reset-done">
            {done}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            {done ? 'Close' : 'Cancel'}
          </Button>
          {!done && (
            <Button
              color="red"
              loading={busy}
              onClick={() => void confirm()}
              data-testid="keychain-reset-confirm"
            >
              Reset keychain
            </Button>
          )}
        </Group>
      </Stack>
    </Modal>
  );
}

export function EndpointsSettings(): React.JSX.Element {
  const endpoints = useQuery(endpointQueries.list());
  const invalidate = useInvalidate();
  const [editing, setEditing] = useState<{ endpoint: LlmEndpoint | null } | null>(null);
  const [toDelete, setToDelete] = useState<LlmEndpoint | null>(null);
  const [probes, setProbes] = useState<Record<string, ProbeState>>({});
  const [resetting, setResetting] = useState(false);

  const probe = useCallback(async (name: string) => {
    setProbes((p) => ({ ...p, [name]: { status: 'running' } }));
    try {
      const result = await invoke('endpoints:probe', { name });
      setProbes((p) => ({ ...p, [name]: { status: 'done', probe: result } }));
    } catch (err) {
      setProbes((p) => ({ ...p, [name]: { status: 'error', message: errorMessage(err) } }));
    }
  }, []);

  const list = endpoints.data ?? [];
  return (
    <Card padding={0}>
      <Group justify="space-between" p="md" pb="xs">
        <Text fw={650}>Endpoints</Text>
        <Group gap="xs">
          {hasSafeStorage() && (
            <Button
              size="xs"
              variant="subtle"
              color="gray"
              onClick={() => setResetting(true)}
              data-testid="keychain-reset"
            >
              Reset the app keychain…
            </Button>
          )}
          <Button
            size="xs"
            leftSection={<IconPlus size={14} />}
            onClick={() => setEditing({ endpoint: null })}
            data-testid="endpoint-add"
          >
            Add endpoint
          </Button>
        </Group>
      </Group>
      <ResetKeychain opened={resetting} onClose={() => setResetting(false)} />
      {endpoints.error && (
        <Alert color="red" m="md" icon={<IconAlertTriangle size={18} />}>
          {errorMessage(endpoints.error)}
        </Alert>
      )}
      {endpoints.data && list.length === 0 && (
        <Text c="dimmed" size="sm" p="md" pt={0} data-testid="endpoints-empty">
          No endpoints yet. Add the OpenAI-compatible server that answers questions about images (GPT-4o, or
          Qwen2-VL served by vLLM, Ollama or llama.cpp); MTG needs one before it can start.
        </Text>
      )}
      {list.length > 0 && (
        <ScrollArea>
          <Table verticalSpacing="sm" horizontalSpacing="md" data-testid="endpoints-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Model</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th>Sampling</Table.Th>
                <Table.Th>Limits</Table.Th>
                <Table.Th>Key</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.map((e) => {
                const state = probes[e.name] ?? { status: 'idle' };
                return (
                  <Fragment key={e.id}>
                    <Table.Tr data-testid="endpoint-row" data-name={e.name}>
                      <Table.Td>
                        <Text fw={600} size="sm">
                          {e.name}
                        </Text>
                        <Text size="xs" c="dimmed" ff="monospace" truncate="end" maw={260} title={e.baseUrl}>
                          {e.baseUrl}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm" ff="monospace" style={{ whiteSpace: 'nowrap' }}>
                          {e.model}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm" style={{ whiteSpace: 'nowrap' }} data-testid="endpoint-role-label">
                          {ROLE_LABEL[e.role]}
                        </Text>
                      </Table.Td>
                      <Table.Td style={{ fontVariantNumeric: 'tabular-nums' }}>
                        <Text size="sm">T {e.temperature}</Text>
                        <Text size="xs" c="dimmed">
                          ≤ {e.maxTokens} tokens
                        </Text>
                      </Table.Td>
                      <Table.Td style={{ fontVariantNumeric: 'tabular-nums' }}>
                        <Text size="sm">{e.concurrency} at once</Text>
                        <Text size="xs" c="dimmed">
                          {e.requestsPerMinute === null ? 'no rate limit' : `${e.requestsPerMinute}/min`} ·{' '}
                          {e.timeoutMs / 1000} s timeout
                        </Text>
                        {e.replicas.length > 0 && (
                          <Text size="xs" c="dimmed" data-testid="endpoint-server-count">
                            {e.replicas.length + 1} servers
                          </Text>
                        )}
                        {(e.priceInput !== null || e.priceOutput !== null) && (
                          <Text size="xs" c="dimmed">
                            ${e.priceInput ?? '?'} / ${e.priceOutput ?? '?'} per M tokens
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Tooltip label="Where the key is read from; the key itself is never shown">
                          <Text
                            size="sm"
                            ff={e.keyRef.kind === 'env' || e.keyRef.kind === 'file' ? 'monospace' : undefined}
                            c={e.keyRef.kind === 'none' ? 'dimmed' : undefined}
                          >
                            {keySource(e.keyRef)}
                          </Text>
                        </Tooltip>
                      </Table.Td>
                      <Table.Td>
                        <Group gap={4} wrap="nowrap" justify="flex-end">
                          <Button
                            size="xs"
                            variant="light"
                            leftSection={<IconPlugConnected size={14} />}
                            loading={state.status === 'running'}
                            onClick={() => void probe(e.name)}
                            data-testid="endpoint-probe"
                          >
                            Probe
                          </Button>
                          <Button
                            size="xs"
                            variant="subtle"
                            color="gray"
                            leftSection={<IconEdit size={14} />}
                            onClick={() => setEditing({ endpoint: e })}
                            data-testid="endpoint-edit"
                          >
                            Edit
                          </Button>
                          <Button
                            size="xs"
                            variant="subtle"
                            color="red"
                            leftSection={<IconTrash size={14} />}
                            onClick={() => setToDelete(e)}
                            data-testid="endpoint-delete"
                          >
                            Delete
                          </Button>
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                    {e.replicas.length > 0 && (
                      <Table.Tr data-testid="endpoint-replicas-row" data-name={e.name}>
                        <Table.Td colSpan={7} pt={0}>
                          <ReplicaList name={e.name} />
                        </Table.Td>
                      </Table.Tr>
                    )}
                    {(state.status === 'done' || state.status === 'error') && (
                      <Table.Tr data-testid="endpoint-probe-row" data-name={e.name}>
                        <Table.Td colSpan={7} bg="var(--mantine-color-default-hover)">
                          {state.status === 'done' ? (
                            <ProbeResult probe={state.probe} />
                          ) : (
                            <Text c="red" size="sm">
                              {state.message}
                            </Text>
                          )}
                        </Table.Td>
                      </Table.Tr>
                    )}
                  </Fragment>
                );
              })}
            </Table.Tbody>
          </Table>
        </ScrollArea>
      )}
      <EndpointForm
        opened={editing !== null}
        endpoint={editing?.endpoint ?? null}
        onClose={() => setEditing(null)}
        onSaved={(saved) => {
          setEditing(null);
          // The probe that follows, shown under the row, says more than a "saved" toast would.
          invalidate('endpoints:list');
          void probe(saved.name);
        }}
      />
      <DeleteEndpoint
        endpoint={toDelete}
        onClose={() => setToDelete(null)}
        onDeleted={() => {
          if (toDelete) setProbes(({ [toDelete.name]: _gone, ...rest }) => rest);
          invalidate('endpoints:list');
        }}
      />
    </Card>
  );
}
