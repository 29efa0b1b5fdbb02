// Settings → Prompts: the versioned MTG prompt sets (templates, relevance filters, question pool). A
// saved edit is a new version; runs keep pointing at the version they used, so nothing here rewrites
// the evidence of captions already made. Saving an unchanged set returns the stored version.
import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Group,
  Modal,
  ScrollArea,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconEdit } from '@tabler/icons-react';
import { useState } from 'react';
import type { PromptSet, PromptSetBody } from '#shared/llm/types';
import { invoke } from '../../lib/api';
import { formatTime } from '../../lib/format';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../../lib/hooks';
import { promptQueries } from '../../lib/queries';
import { useInvalidate } from '../../lib/serverState';
import { useAction } from '../../lib/useAction';

interface Draft {
  name: string;
  description: string;
  initial: string;
  question: string;
  reconstruct: string;
  answerLine: string;
  /** Empty: the set has none and MTG's verification uses its built-in check. */
  verify: string;
  notVisible: string;
  refusal: string;
  negative: string;
  pool: string;
}

const draftOf = (b: PromptSetBody): Draft => ({
  name: b.name,
  description: b.description ?? '',
  initial: b.templates.initial,
  question: b.templates.question,
  reconstruct: b.templates.reconstruct,
  answerLine: b.templates.answerLine,
  verify: b.templates.verify ?? '',
  notVisible: b.filters.notVisible.join('\n'),
  refusal: b.filters.refusal.join('\n'),
  negative: b.filters.negative,
  pool: JSON.stringify(b.pool, null, 2),
});

const lines = (s: string): string[] =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** The body to save, or what is wrong with the pool's JSON; the server checks the rest (placeholders, regexes). */
function bodyOf(d: Draft): PromptSetBody | string {
  let pool: unknown;
  try {
    pool = JSON.parse(d.pool);
  } catch (err) {
    return `The question pool is not valid JSON: ${(err as Error).message}`;
  }
  if (!Array.isArray(pool)) return 'The question pool must be a JSON array of questions.';
  return {
    name: d.name.trim(),
    ...(d.description.trim() ? { description: d.description.trim() } : {}),
    templates: {
      initial: d.initial,
      question: d.question,
      reconstruct: d.reconstruct,
      answerLine: d.answerLine,
      ...(d.verify.trim() ? { verify: d.verify } : {}),
    },
    filters: { notVisible: lines(d.notVisible), refusal: lines(d.refusal), negative: d.negative.trim() },
    pool: pool as PromptSetBody['pool'],
  };
}

function Editor({
  set,
  onClose,
  onSaved,
}: {
  set: PromptSet;
  onClose: () => void;
  onSaved: (s: PromptSet) => void;
}): React.JSX.Element {
  const [d, setD] = useState<Draft>(() => draftOf(set.body));
  const { busy, error, setError, run } = useAction();
  const field = (k: keyof Draft) => ({
    value: d[k],
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => {
      const v = e.currentTarget.value;
      setD((x) => ({ ...x, [k]: v }));
    },
  });
  const save = async (): Promise<void> => {
    const body = bodyOf(d);
    if (typeof body === 'string') {
      setError(body);
      return;
    }
    await run(async () => {
      onSaved(await invoke('prompts:save', { body }));
    });
  };
  const mono = { input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 12 } };
  return (
    <Stack gap="sm">
      <Group grow align="flex-start">
        <TextInput
          label="Name"
          description="Same name: the next version of this set"
          {...field('name')}
          data-testid="prompts-name"
        />
        <TextInput label="Description" {...field('description')} />
      </Group>
      <Textarea
        label="Initial caption prompt"
        description="P_init: asked once per image"
        autosize
        minRows={1}
        maxRows={4}
        {...field('initial')}
        data-testid="prompts-initial"
      />
      <Textarea
        label="Question template"
        description="Wraps each pool question; {question} is replaced"
        autosize
        minRows={2}
        maxRows={4}
        {...field('question')}
      />
      <Textarea
        label="Reconstruction prompt"
        description="{caption} is the initial caption, {answers} the kept Q&A pairs"
        autosize
        minRows={4}
        maxRows={10}
        {...field('reconstruct')}
      />
      <TextInput
        label="Answer line"
        description="One kept pair inside {answers}: {question}, {answer}"
        {...field('answerLine')}
      />
      <TextInput
        label="Verification question"
        description="Used only by MTG runs with verification: a yes/no check of one kept fact, {fact} (also {question}, {answer}); empty uses the built-in one"
        {...field('verify')}
      />
      <Group grow align="flex-start">
        <Textarea
          label="Not visible"
          description="Regexes, one a line: the answer says it cannot be seen"
          autosize
          minRows={3}
          maxRows={8}
          styles={mono}
          {...field('notVisible')}
        />
        <Textarea
          label="Refusal"
          description="Regexes, one a line: the model declined"
          autosize
          minRows={3}
          maxRows={8}
          styles={mono}
          {...field('refusal')}
        />
      </Group>
      <TextInput
        label="Negative answer"
        description="One regex: the thing asked about is absent"
        styles={mono}
        {...field('negative')}
      />
      <Textarea
        label="Question pool"
        description="JSON: asked in this order; a question is skipped once one of its settledBy regexes matches what is known"
        autosize
        minRows={8}
        maxRows={18}
        styles={mono}
        {...field('pool')}
        data-testid="prompts-pool"
      />
      {error && (
        <Alert
          color="red"
          icon={<IconAlertTriangle size={18} />}
          style={{ whiteSpace: 'pre-wrap' }}
          data-testid="prompts-error"
        >
          {error}
        </Alert>
      )}
      <Group justify="flex-end">
        <Button variant="default" onClick={onClose}>
          Cancel
        </Button>
        <Button loading={busy} onClick={() => void save()} data-testid="prompts-save">
          Save as new version
        </Button>
      </Group>
    </Stack>
  );
}

export function PromptsSettings(): React.JSX.Element {
  const sets = useQuery(promptQueries.sets());
  const invalidate = useInvalidate();
  const [editing, setEditing] = useState<PromptSet | null>(null);
  return (
    <Card padding={0}>
      <Group justify="space-between" p="md" pb="xs">
        <Text fw={650}>Prompt sets</Text>
        <Text size="xs" c="dimmed">
          The shipped default comes from <Code>resources/prompts/mtg-default.json</Code>
        </Text>
      </Group>
      {sets.error && (
        <Alert color="red" m="md">
          {errorMessage(sets.error)}
        </Alert>
      )}
      {sets.data && (
        <ScrollArea>
          <Table verticalSpacing="sm" horizontalSpacing="md" data-testid="prompts-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Set</Table.Th>
                <Table.Th ta="right">Questions</Table.Th>
                <Table.Th>Content hash</Table.Th>
                <Table.Th>Saved</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {sets.data.map((s, i) => {
                const latest = sets.data!.findIndex((x) => x.name === s.name) === i;
                return (
                  <Table.Tr key={s.id} data-testid="prompts-row">
                    <Table.Td>
                      <Group gap={6}>
                        <Text fw={600} size="sm">
                          {s.name}
                        </Text>
                        <Badge size="sm" variant="light" color={latest ? 'indigo' : 'gray'}>
                          v{s.version}
                        </Badge>
                        {latest && (
                          <Text size="xs" c="dimmed">
                            newest
                          </Text>
                        )}
                      </Group>
                      {s.body.description && (
                        <Text size="xs" c="dimmed" lineClamp={1} maw={520}>
                          {s.body.description}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td ta="right" style={{ fontVariantNumeric: 'tabular-nums' }}>
                      {s.body.pool.length}
                    </Table.Td>
                    <Table.Td>
                      <Text size="xs" ff="monospace" c="dimmed" title={s.sha256}>
                        {s.sha256.slice(0, 12)}
                      </Text>
                    </Table.Td>
                    <Table.Td c="dimmed">{formatTime(s.createdAt)}</Table.Td>
                    <Table.Td ta="right">
                      <Button
                        size="xs"
                        variant="subtle"
                        leftSection={<IconEdit size={14} />}
                        onClick={() => setEditing(s)}
                        data-testid="prompts-edit"
                      >
                        Edit as new version
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </ScrollArea>
      )}
      <Modal
        opened={editing !== null}
        onClose={() => setEditing(null)}
        size="xl"
        title={
          <Text fw={650}>
            {editing?.name} v{editing?.version} → new version
          </Text>
        }
      >
        {editing && (
          <Editor
            key={editing.id}
            set={editing}
            onClose={() => setEditing(null)}
            onSaved={(saved) => {
              const known = sets.data?.some((x) => x.id === saved.id) ?? false;
              setEditing(null);
              invalidate('prompts:list');
              notifications.show({
                color: 'teal',
                title: known ? 'No new version' : 'Prompt set saved',
                message: known
                  ? `Identical to ${saved.name} v${saved.version}, which is already stored.`
                  : `${saved.name} v${saved.version}. New MTG jobs can pick it; runs already made keep their version.`,
              });
            }}
          />
        )}
      </Modal>
    </Card>
  );
}
