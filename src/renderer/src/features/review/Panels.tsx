// The evidence beside the image: the diff of the edit, the MTG run (initial caption, Q&A rounds kept
// and dropped with the reason), the dataset's own captions, and the audit trail.
import { Badge, Card, Group, Kbd, Modal, Stack, Table, Text, Timeline, Tooltip } from '@mantine/core';
import { IconCircleCheck, IconCircleX } from '@tabler/icons-react';
import type { QaDropReason, ReviewHistoryEntry, ReviewItem } from '#shared/review/types';
import { BINDINGS } from './keys';
import { wordDiff } from './diff';
import classes from './Review.module.css';

const DROP_LABEL: Record<QaDropReason, string> = {
  not_visible: 'not visible',
  refusal: 'refused',
  negative: 'negative answer',
  redundant: 'redundant',
  empty: 'empty answer',
  error: 'call failed',
  unverified: 'not confirmed',
};

export function DiffView({ before, after }: { before: string; after: string }): React.JSX.Element {
  const parts = wordDiff(before, after);
  const changed = parts.some((p) => p.kind !== 'same');
  return (
    <Text size="sm" data-testid="review-diff" style={{ lineHeight: 1.6 }}>
      {!changed ? (
        <Text span c="dimmed" size="sm">
          No changes to the generated text.
        </Text>
      ) : (
        parts.map((p, k) =>
          p.kind === 'same' ? (
            <span key={k}>{p.text}</span>
          ) : (
            <span key={k} className={p.kind === 'added' ? classes.added : classes.removed} data-diff={p.kind}>
              {p.text}
            </span>
          ),
        )
      )}
    </Text>
  );
}

export function EvidencePanel({ item }: { item: ReviewItem }): React.JSX.Element {
  const ev = item.evidence;
  if (!ev) {
    return (
      <Card withBorder padding="sm" data-testid="review-evidence">
        <Text size="sm" fw={600} mb={4}>
          Evidence
        </Text>
        <Text size="sm" c="dimmed">
          {item.original.source === 'human'
            ? 'A caption from the dataset itself: no generation run behind it.'
            : 'No MTG run is recorded for this caption, so there are no Q&A rounds to show.'}
        </Text>
      </Card>
    );
  }
  const dropped = ev.rounds.filter((r) => !r.kept).length;
  return (
    <Card withBorder padding="sm" data-testid="review-evidence">
      <Group justify="space-between" mb={6}>
        <Text size="sm" fw={600}>
          Evidence
        </Text>
        <Text size="xs" c="dimmed">
          {ev.vqaModel} → {ev.reconstructorModel}
          {ev.promptSet ? ` · prompts “${ev.promptSet.name}” v${ev.promptSet.version}` : ''}
        </Text>
      </Group>
      <Text size="xs" c="dimmed">
        Initial caption
      </Text>
      <Text size="sm" mb="xs" data-testid="review-initial-caption">
        {ev.initialCaption ?? '—'}
      </Text>
      <Text size="xs" c="dimmed" mb={4}>
        {ev.rounds.length} Q&A rounds, {ev.rounds.length - dropped} kept, {dropped} dropped
      </Text>
      <Table withRowBorders={false} verticalSpacing={2} fz="sm" data-testid="review-rounds">
        <Table.Tbody>
          {ev.rounds.map((r) => (
            <Table.Tr key={r.idx} className={r.kept ? undefined : classes.dropped} data-kept={r.kept}>
              <Table.Td w={22} style={{ verticalAlign: 'top' }}>
                {r.kept ? (
                  <IconCircleCheck size={16} color="var(--mantine-color-teal-6)" />
                ) : (
                  <IconCircleX size={16} color="var(--mantine-color-gray-6)" />
                )}
              </Table.Td>
              <Table.Td>
                <Text size="sm">{r.question}</Text>
                <Text size="sm" c="dimmed">
                  {r.answer ?? '—'}
                </Text>
              </Table.Td>
              <Table.Td w={130} style={{ verticalAlign: 'top' }}>
                {!r.kept && r.dropReason && (
                  <Tooltip label={r.dropDetail ?? DROP_LABEL[r.dropReason]} disabled={!r.dropDetail}>
                    <Badge size="xs" variant="light" color="gray">
                      {DROP_LABEL[r.dropReason]}
                    </Badge>
                  </Tooltip>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Card>
  );
}

const ACTION_COLOR: Record<string, string> = {
  accept: 'teal',
  'bulk-accept': 'teal',
  reject: 'red',
  'bulk-reject': 'red',
  flag: 'orange',
  edit: 'indigo',
  undo: 'gray',
  reset: 'gray',
};

function describe(h: ReviewHistoryEntry): string {
  const a = h.after ?? {};
  if (h.action === 'edit') return `“${String(a.text ?? '')}”`;
  if (h.action === 'undo') return `undid ${String(a.undoneAction ?? '')}`;
  return `${String((h.before ?? {}).status ?? '?')} → ${String(a.status ?? '?')}`;
}

export function HistoryList({ history }: { history: ReviewHistoryEntry[] }): React.JSX.Element {
  if (history.length === 0) {
    return (
      <Text size="sm" c="dimmed" data-testid="review-history">
        No decisions yet.
      </Text>
    );
  }
  return (
    <Timeline bulletSize={10} lineWidth={1} data-testid="review-history">
      {history.slice(0, 12).map((h) => (
        <Timeline.Item
          key={h.id}
          color={ACTION_COLOR[h.action] ?? 'gray'}
          title={
            <Group gap={6}>
              <Badge
                size="xs"
                variant="light"
                color={ACTION_COLOR[h.action] ?? 'gray'}
                td={h.undone ? 'line-through' : undefined}
              >
                {h.action}
              </Badge>
              <Text size="xs" c="dimmed">
                {h.reviewer} · {new Date(h.createdAt).toLocaleString()}
              </Text>
            </Group>
          }
        >
          <Text size="xs" c="dimmed" lineClamp={2}>
            {describe(h)}
          </Text>
        </Timeline.Item>
      ))}
    </Timeline>
  );
}

export function CheatSheet({ opened, onClose }: { opened: boolean; onClose: () => void }): React.JSX.Element {
  return (
    <Modal opened={opened} onClose={onClose} title="Keyboard" size="lg" data-testid="review-cheatsheet">
      <Table verticalSpacing={4}>
        <Table.Tbody>
          {BINDINGS.map((b) => (
            <Table.Tr key={b.action}>
              <Table.Td w={130}>
                <Group gap={4}>
                  {b.keys.map((k) => (
                    <Kbd key={k} size="xs">
                      {k}
                    </Kbd>
                  ))}
                </Group>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{b.label}</Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Modal>
  );
}

export function Hint({ keys }: { keys: string[] }): React.JSX.Element {
  return (
    <Stack gap={0} component="span">
      <Group gap={2} component="span">
        {keys.map((k) => (
          <Kbd key={k} size="xs">
            {k}
          </Kbd>
        ))}
      </Group>
    </Stack>
  );
}
