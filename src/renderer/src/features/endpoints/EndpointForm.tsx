// Adding or editing an MLLM endpoint profile. The API key itself is typed here only for the desktop
// app's keychain and goes to `endpoints:save` once; it is never read back or shown. Under `ctgi serve`
// there is no keychain, so the profile points at an environment variable or a 0600 key file instead.
import {
  Alert,
  Button,
  Group,
  Modal,
  NumberInput,
  PasswordInput,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core';
import { IconAlertTriangle, IconLock } from '@tabler/icons-react';
import { useState } from 'react';
import type { InvokeArg } from '#shared/contract';
import type { KeyRef, LlmEndpoint, LlmRole, TemperatureParam, TokenLimitParam } from '#shared/llm/types';
import { invoke } from '../../lib/api';
import { ROLE_LABEL } from '../../lib/labels';
import { useAction } from '../../lib/useAction';

/** True in the desktop app: only there does the main process have an OS keychain for keys. */
export const hasSafeStorage = (): boolean => window.ctgi !== undefined;

type KeyKind = KeyRef['kind'];

const TOKEN_LIMIT_OPTIONS: { value: TokenLimitParam; label: string }[] = [
  { value: 'auto', label: 'Auto (by model name)' },
  { value: 'max_tokens', label: 'max_tokens' },
  { value: 'max_completion_tokens', label: 'max_completion_tokens' },
];
const TEMPERATURE_OPTIONS: { value: TemperatureParam; label: string }[] = [
  { value: 'auto', label: 'Auto (by model name)' },
  { value: 'send', label: 'Always send' },
  { value: 'omit', label: "Leave out (model's default)" },
];

interface Draft {
  name: string;
  baseUrl: string;
  model: string;
  role: LlmRole;
  temperature: number | string;
  maxTokens: number | string;
  concurrency: number | string;
  requestsPerMinute: number | string;
  timeoutS: number | string;
  tokenLimitParam: TokenLimitParam;
  temperatureParam: TemperatureParam;
  keyKind: KeyKind;
  envName: string;
  filePath: string;
  apiKey: string;
  /** More servers of the same model, one base URL per line (each with the profile's concurrency). */
  replicas: string;
  priceInput: number | string;
  priceOutput: number | string;
  batchDiscount: number | string;
}

function draftOf(e: LlmEndpoint | null): Draft {
  const ref = e?.keyRef ?? { kind: 'none' };
  return {
    name: e?.name ?? '',
    baseUrl: e?.baseUrl ?? '',
    model: e?.model ?? '',
    role: e?.role ?? 'both',
    temperature: e?.temperature ?? 0.01,
    maxTokens: e?.maxTokens ?? 512,
    concurrency: e?.concurrency ?? 4,
    requestsPerMinute: e?.requestsPerMinute ?? '',
    timeoutS: e ? e.timeoutMs / 1000 : 60,
    tokenLimitParam: e?.tokenLimitParam ?? 'auto',
    temperatureParam: e?.temperatureParam ?? 'auto',
    keyKind: ref.kind,
    envName: ref.kind === 'env' ? ref.name : '',
    filePath: ref.kind === 'file' ? ref.path : '',
    apiKey: '',
    replicas: (e?.replicas ?? []).map((r) => r.baseUrl).join('\n'),
    priceInput: e?.priceInput ?? '',
    priceOutput: e?.priceOutput ?? '',
    batchDiscount: e?.batchDiscount ?? 0.5,
  };
}

const num = (v: number | string): number => (typeof v === 'number' ? v : Number(v));

/** Builds the `endpoints:save` argument, or says what is missing in words. */
function toInput(d: Draft, existing: LlmEndpoint | null): InvokeArg<'endpoints:save'> | string {
  if (!d.name.trim()) return 'Give the endpoint a name.';
  if (!d.baseUrl.trim()) return 'Enter the base URL, e.g. http://127.0.0.1:8000/v1.';
  if (!d.model.trim()) return 'Enter the model id the server serves.';
  let keyRef: KeyRef;
  switch (d.keyKind) {
    case 'none':
      keyRef = { kind: 'none' };
      break;
    case 'env':
      if (!d.envName.trim()) return 'Name the environment variable that holds the key.';
      keyRef = { kind: 'env', name: d.envName.trim() };
      break;
    case 'file':
      if (!d.filePath.trim()) return 'Enter the path of the key file.';
      keyRef = { kind: 'file', path: d.filePath.trim() };
      break;
    case 'safe-storage': {
      const keptKey = existing?.keyRef.kind === 'safe-storage' && existing.name === d.name.trim();
      if (!d.apiKey && !keptKey) return 'Enter the API key to store in the keychain.';
      keyRef = { kind: 'safe-storage', id: d.name.trim() };
      break;
    }
  }
  const rpm = d.requestsPerMinute === '' ? null : num(d.requestsPerMinute);
  return {
    name: d.name.trim(),
    baseUrl: d.baseUrl.trim(),
    model: d.model.trim(),
    role: d.role,
    temperature: num(d.temperature),
    maxTokens: num(d.maxTokens),
    concurrency: num(d.concurrency),
    requestsPerMinute: rpm,
    timeoutMs: Math.round(num(d.timeoutS) * 1000),
    tokenLimitParam: d.tokenLimitParam,
    temperatureParam: d.temperatureParam,
    keyRef,
    replicas: d.replicas
      .split('\n')
      .map((u) => u.trim())
      .filter(Boolean)
      .map((baseUrl) => ({ baseUrl, concurrency: num(d.concurrency) })),
    priceInput: d.priceInput === '' ? null : num(d.priceInput),
    priceOutput: d.priceOutput === '' ? null : num(d.priceOutput),
    batchDiscount: num(d.batchDiscount),
    ...(d.keyKind === 'safe-storage' && d.apiKey ? { apiKey: d.apiKey } : {}),
  };
}

export function EndpointForm({
  opened,
  endpoint,
  onClose,
  onSaved,
}: {
  opened: boolean;
  /** The profile being edited; null adds a new one. */
  endpoint: LlmEndpoint | null;
  onClose: () => void;
  onSaved: (saved: LlmEndpoint) => void;
}): React.JSX.Element {
  return (
    <Modal
      opened={opened}
      onClose={onClose}
      title={<Text fw={650}>{endpoint ? `Edit ${endpoint.name}` : 'Add an MLLM endpoint'}</Text>}
      size="lg"
      centered
    >
      {/* Keyed so each opening starts from the profile as stored, and a typed key never lingers. */}
      {opened && (
        <FormBody key={endpoint?.name ?? '(new)'} endpoint={endpoint} onClose={onClose} onSaved={onSaved} />
      )}
    </Modal>
  );
}

function FormBody({
  endpoint,
  onClose,
  onSaved,
}: {
  endpoint: LlmEndpoint | null;
  onClose: () => void;
  onSaved: (saved: LlmEndpoint) => void;
}): React.JSX.Element {
  const [d, setD] = useState<Draft>(() => draftOf(endpoint));
  const { busy, error, setError, run } = useAction();
  const set = <K extends keyof Draft>(k: K, v: Draft[K]): void => setD((x) => ({ ...x, [k]: v }));
  const keychain = hasSafeStorage();
  const keyOptions = [
    { value: 'none', label: 'No key' },
    { value: 'env', label: 'Environment variable' },
    { value: 'file', label: 'Key file' },
    ...(keychain || d.keyKind === 'safe-storage' ? [{ value: 'safe-storage', label: 'App keychain' }] : []),
  ];

  const save = async (): Promise<void> => {
    const input = toInput(d, endpoint);
    if (typeof input === 'string') {
      setError(input);
      return;
    }
    await run(async () => {
      const saved = await invoke('endpoints:save', input);
      setD((x) => ({ ...x, apiKey: '' }));
      onSaved(saved);
    });
  };

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <Stack gap="sm">
        <SimpleGrid cols={2} spacing="sm">
          <TextInput
            label="Name"
            description={endpoint ? 'The name identifies the profile' : 'Letters, digits, . _ - @'}
            placeholder="qwen2-vl"
            value={d.name}
            disabled={endpoint !== null}
            onChange={(e) => set('name', e.currentTarget.value)}
            data-testid="endpoint-name"
          />
          <TextInput
            label="Model"
            description="As the server lists it"
            placeholder="Qwen/Qwen2-VL-7B-Instruct"
            value={d.model}
            onChange={(e) => set('model', e.currentTarget.value)}
            data-testid="endpoint-model"
          />
        </SimpleGrid>
        <TextInput
          label="Base URL"
          description="OpenAI-compatible, usually ending in /v1 (vLLM, Ollama, llama.cpp, OpenAI)"
          placeholder="http://127.0.0.1:8000/v1"
          value={d.baseUrl}
          onChange={(e) => set('baseUrl', e.currentTarget.value)}
          data-testid="endpoint-url"
        />
        <Textarea
          label="Replicas"
          description="More servers of the same model (e.g. one vLLM per GPU box), one base URL a line; calls go to the least busy healthy one"
          placeholder="http://gpu2:8000/v1"
          autosize
          minRows={1}
          value={d.replicas}
          onChange={(e) => set('replicas', e.currentTarget.value)}
          data-testid="endpoint-replicas"
        />
        <SimpleGrid cols={3} spacing="sm">
          <NumberInput
            label="Input price"
            description="USD per million prompt tokens"
            min={0}
            decimalScale={4}
            value={d.priceInput}
            onChange={(v) => set('priceInput', v)}
            data-testid="endpoint-price-input"
          />
          <NumberInput
            label="Output price"
            description="USD per million completion tokens"
            min={0}
            decimalScale={4}
            value={d.priceOutput}
            onChange={(v) => set('priceOutput', v)}
            data-testid="endpoint-price-output"
          />
          <NumberInput
            label="Batch price"
            description="Share of the price for Batch API calls"
            min={0}
            max={1}
            step={0.05}
            decimalScale={2}
            value={d.batchDiscount}
            onChange={(v) => set('batchDiscount', v)}
          />
        </SimpleGrid>
        <Stack gap={4}>
          <Text size="sm" fw={500}>
            Role
          </Text>
          <SegmentedControl
            value={d.role}
            onChange={(v) => set('role', v as LlmRole)}
            data={(['vqa', 'reconstructor', 'both'] as const).map((r) => ({
              value: r,
              label: ROLE_LABEL[r],
            }))}
            data-testid="endpoint-role"
          />
          <Text size="xs" c="dimmed">
            VQA answers questions about images (needs a vision model); the reconstructor merges the answers
            into one caption (text only is enough).
          </Text>
        </Stack>
        <SimpleGrid cols={3} spacing="sm">
          <NumberInput
            label="Temperature"
            description="The paper uses 0.01"
            min={0}
            max={2}
            step={0.01}
            decimalScale={3}
            value={d.temperature}
            onChange={(v) => set('temperature', v)}
            data-testid="endpoint-temperature"
          />
          <NumberInput
            label="Max tokens"
            description="Per answer"
            min={1}
            max={1_000_000}
            value={d.maxTokens}
            onChange={(v) => set('maxTokens', v)}
            data-testid="endpoint-max-tokens"
          />
          <NumberInput
            label="Timeout (s)"
            description="Per attempt"
            min={0.1}
            max={3600}
            value={d.timeoutS}
            onChange={(v) => set('timeoutS', v)}
          />
          <NumberInput
            label="Concurrency"
            description="Requests in flight"
            min={1}
            max={256}
            value={d.concurrency}
            onChange={(v) => set('concurrency', v)}
            data-testid="endpoint-concurrency"
          />
          <NumberInput
            label="Requests per minute"
            description="Empty: no limit"
            min={1}
            max={1_000_000}
            placeholder="no limit"
            value={d.requestsPerMinute}
            onChange={(v) => set('requestsPerMinute', v)}
            data-testid="endpoint-rpm"
          />
        </SimpleGrid>
        {/* OpenAI's o1/o3/o4/gpt-5 reject max_tokens and any temperature but 1; many local servers only know
            max_tokens. Auto picks by model name, and a probe says what the server actually took. */}
        <SimpleGrid cols={2} spacing="sm">
          <Select
            label="Token limit field"
            description="Auto: max_completion_tokens for o1/o3/o4/gpt-5, else max_tokens"
            data={TOKEN_LIMIT_OPTIONS}
            value={d.tokenLimitParam}
            onChange={(v) => v && set('tokenLimitParam', v as TokenLimitParam)}
            allowDeselect={false}
            data-testid="endpoint-token-param"
          />
          <Select
            label="Send temperature"
            description="Auto: left out for o1/o3/o4/gpt-5, which only take the default"
            data={TEMPERATURE_OPTIONS}
            value={d.temperatureParam}
            onChange={(v) => v && set('temperatureParam', v as TemperatureParam)}
            allowDeselect={false}
            data-testid="endpoint-temperature-param"
          />
        </SimpleGrid>
        <Stack gap={6}>
          <Text size="sm" fw={500}>
            API key
          </Text>
          <SegmentedControl
            value={d.keyKind}
            onChange={(v) => set('keyKind', v as KeyKind)}
            data={keyOptions}
            data-testid="endpoint-key-kind"
          />
          {d.keyKind === 'none' && (
            <Text size="xs" c="dimmed">
              Local servers (vLLM, Ollama, llama.cpp) usually need none.
            </Text>
          )}
          {d.keyKind === 'env' && (
            <TextInput
              placeholder="CTGI_KEY_OPENAI"
              description="A variable whose name starts with CTGI_KEY_, set before starting CTGI (any other variable only from the command line there: ctgi endpoints --save … --key-env)."
              value={d.envName}
              onChange={(e) => set('envName', e.currentTarget.value)}
              data-testid="endpoint-key-env"
            />
          )}
          {d.keyKind === 'file' && (
            <TextInput
              placeholder="openai.key"
              description="A file in CTGI's key folder on the machine running CTGI (~/.config/ctgi/keys, or $CTGI_KEY_DIR), with the key on one line, chmod 600. Files elsewhere only from the command line there: ctgi endpoints --save … --key-file."
              value={d.filePath}
              onChange={(e) => set('filePath', e.currentTarget.value)}
              data-testid="endpoint-key-file"
            />
          )}
          {d.keyKind === 'safe-storage' && (
            <PasswordInput
              leftSection={<IconLock size={16} />}
              placeholder={
                endpoint?.keyRef.kind === 'safe-storage' ? 'A key is stored — leave empty to keep it' : 'sk-…'
              }
              description={
                keychain
                  ? 'Encrypted with the operating system keychain; it is never shown again, nor written to the workspace or the logs.'
                  : 'The keychain exists only in the desktop app; here, choose an environment variable or a key file.'
              }
              autoComplete="off"
              value={d.apiKey}
              onChange={(e) => set('apiKey', e.currentTarget.value)}
              data-testid="endpoint-key"
            />
          )}
          {!keychain && (
            <Text size="xs" c="dimmed">
              Served by{' '}
              <Text span ff="monospace" size="xs">
                ctgi serve
              </Text>
              : keys stay on the server, in an environment variable or a key file.
            </Text>
          )}
        </Stack>
        {error && (
          <Alert color="red" icon={<IconAlertTriangle size={18} />} data-testid="endpoint-error">
            {error}
          </Alert>
        )}
        <Group justify="flex-end" mt="xs">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={busy} data-testid="endpoint-save">
            Save and probe
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
