// What an endpoint probe found, check by check, and the one thing to do next. Shown in Settings after
// "Probe" and, compactly, in the MTG dialog before a batch starts.
import { Alert, Badge, Group, List, Loader, Stack, Text, ThemeIcon, Tooltip } from '@mantine/core';
import { IconAlertTriangle, IconCheck, IconMinus, IconX } from '@tabler/icons-react';
import type { EndpointProbe, ProbeCheckName, ProbeCheckStatus } from '#shared/llm/types';

export const CHECK_LABEL: Record<ProbeCheckName, string> = {
  key: 'API key',
  reachable: 'Server reachable',
  model: 'Model exists',
  chat: 'Answers text',
  vision: 'Accepts images',
  replicas: 'Every replica answers',
};

const STATUS_ICON: Record<ProbeCheckStatus, { color: string; icon: React.ReactNode }> = {
  ok: { color: 'teal', icon: <IconCheck size={14} stroke={2.4} /> },
  warning: { color: 'yellow', icon: <IconAlertTriangle size={14} /> },
  failed: { color: 'red', icon: <IconX size={14} stroke={2.4} /> },
  skipped: { color: 'gray', icon: <IconMinus size={14} /> },
};

/** The full result: every check with its detail and latency, then the advice. */
export function ProbeResult({ probe }: { probe: EndpointProbe }): React.JSX.Element {
  return (
    <Stack gap="xs" data-testid="probe-result" data-ok={probe.ok}>
      <List spacing={6} size="sm" center>
        {probe.checks.map((c) => {
          const s = STATUS_ICON[c.status];
          return (
            <List.Item
              key={c.name}
              icon={
                <ThemeIcon
                  size={20}
                  radius="xl"
                  color={s.color}
                  variant={c.status === 'skipped' ? 'light' : 'filled'}
                >
                  {s.icon}
                </ThemeIcon>
              }
              data-testid="probe-check"
              data-check={c.name}
              data-status={c.status}
            >
              <Text span size="sm" fw={600}>
                {CHECK_LABEL[c.name]}
              </Text>
              <Text span size="sm" c={c.status === 'failed' ? 'red' : 'dimmed'}>
                {' '}
                {/* The advice below already says it in full; the line only marks where it failed. */}—{' '}
                {c.status === 'failed' && c.detail === probe.advice ? 'failed' : c.detail}
                {c.latencyMs !== null ? ` (${c.latencyMs} ms)` : ''}
              </Text>
            </List.Item>
          );
        })}
      </List>
      <Alert
        color={probe.ok ? 'teal' : 'red'}
        variant="light"
        p="xs"
        icon={probe.ok ? <IconCheck size={18} /> : <IconAlertTriangle size={18} />}
        data-testid="probe-advice"
      >
        {probe.advice}
      </Alert>
      {probe.sentParams && (
        <Text
          size="xs"
          c="dimmed"
          data-testid="probe-sent-params"
          data-token-param={probe.sentParams.tokenLimitParam}
          data-temperature={probe.sentParams.temperature}
        >
          The server took the token limit as{' '}
          <Text span ff="monospace" size="xs">
            {probe.sentParams.tokenLimitParam}
          </Text>
          {probe.sentParams.temperature
            ? ', with a temperature.'
            : ', without a temperature (the model’s default).'}
        </Text>
      )}
      {!probe.ok && probe.availableModels && probe.availableModels.length > 0 && (
        <Text size="xs" c="dimmed" data-testid="probe-models">
          Served models: {probe.availableModels.slice(0, 30).join(', ')}
          {probe.availableModels.length > 30 ? ', …' : ''}
        </Text>
      )}
    </Stack>
  );
}

export type ProbeState =
  | { status: 'idle' }
  | { status: 'running' }
  | { status: 'done'; probe: EndpointProbe }
  | { status: 'error'; message: string };

/** One line: a badge per check; hovering a failed one gives its detail. The advice follows when not ok. */
export function ProbeSummary({
  state,
  testId,
}: {
  state: ProbeState;
  testId?: string;
}): React.JSX.Element | null {
  if (state.status === 'idle') return null;
  if (state.status === 'running') {
    return (
      <Group gap={6} data-testid={testId} data-state="running">
        <Loader size={14} />
        <Text size="xs" c="dimmed">
          Probing: key, server, model, a text answer and an image answer…
        </Text>
      </Group>
    );
  }
  if (state.status === 'error') {
    return (
      <Text size="xs" c="red" data-testid={testId} data-state="error">
        {state.message}
      </Text>
    );
  }
  const { probe } = state;
  return (
    <Stack gap={4} data-testid={testId} data-state={probe.ok ? 'ok' : 'failed'}>
      <Group gap={4}>
        {probe.checks.map((c) => (
          <Tooltip key={c.name} label={c.detail} multiline maw={360} withArrow>
            <Badge
              size="sm"
              variant={c.status === 'skipped' ? 'outline' : 'light'}
              color={STATUS_ICON[c.status].color}
              leftSection={STATUS_ICON[c.status].icon}
              data-check={c.name}
              data-status={c.status}
            >
              {CHECK_LABEL[c.name]}
            </Badge>
          </Tooltip>
        ))}
      </Group>
      {!probe.ok && (
        <Text size="xs" c="red">
          {probe.advice}
        </Text>
      )}
    </Stack>
  );
}
