// The conversation beside the grid: the analyst's query, then one card per round (anchor checks with
// thumbnails and the MLLM's yes/no, the diagnostic questions and their answers, the refined query q̂),
// each step marked with who decided it. The latest round takes the analyst's actions: reject or pick the
// anchor, answer a question instead of the MLLM, edit q̂ and re-rank, run another round, go back.
import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Card,
  Group,
  Loader,
  Stack,
  Text,
  Textarea,
  TextInput,
  Tooltip,
} from '@mantine/core';
import {
  IconAlertTriangle,
  IconArrowBackUp,
  IconPlayerStop,
  IconRefresh,
  IconRobot,
  IconUser,
  IconX,
} from '@tabler/icons-react';
import { useState } from 'react';
import type { ImageId } from '#shared/ids';
import type {
  MtiActor,
  MtiAction,
  MtiCheck,
  MtiQuestion,
  MtiRound,
  MtiSearch,
  MtiVerdict,
} from '#shared/mti/types';
import { imageUrl } from '../../lib/api';
import type { LiveStep } from './useMtiSearch';
import classes from './Mti.module.css';

const VERDICT: Record<MtiVerdict, { label: string; color: string }> = {
  yes: { label: 'Yes', color: 'teal' },
  no: { label: 'No', color: 'red' },
  unclear: { label: '?', color: 'gray' },
};

function By({ by }: { by: MtiActor | null }): React.JSX.Element | null {
  if (!by) return null;
  return (
    <Tooltip label={by === 'analyst' ? 'Decided by you' : 'Decided by the MLLM'} withArrow>
      <Badge
        size="xs"
        variant="light"
        color={by === 'analyst' ? 'grape' : 'blue'}
        leftSection={by === 'analyst' ? <IconUser size={10} /> : <IconRobot size={10} />}
        data-testid="mti-by"
      >
        {by === 'analyst' ? 'you' : 'MLLM'}
      </Badge>
    </Tooltip>
  );
}

function CheckThumb({
  check,
  anchor,
  onPick,
  disabled,
}: {
  check: MtiCheck;
  anchor: boolean;
  onPick?: (id: ImageId) => void;
  disabled: boolean;
}): React.JSX.Element {
  const v = VERDICT[check.verdict];
  return (
    <Tooltip
      multiline
      w={260}
      withArrow
      label={
        <>
          <b>#{check.rank}</b> · score {check.score.toFixed(3)}
          <br />
          {check.answer ? `MLLM: “${check.answer}”` : check.by === 'analyst' ? 'Decided by you' : 'No answer'}
          {onPick && !anchor ? (
            <>
              <br />
              Click to use it as the anchor.
            </>
          ) : null}
        </>
      }
    >
      <button
        type="button"
        className={classes.check}
        data-anchor={anchor}
        data-verdict={check.verdict}
        data-testid="mti-check"
        disabled={disabled || !onPick || anchor}
        onClick={() => onPick?.(check.imageId)}
        aria-label={`Candidate ranked ${check.rank}: ${v.label}`}
      >
        <img src={imageUrl(check.imageId, 'thumb')} alt="" loading="lazy" />
        <span className={classes.checkRank}>#{check.rank}</span>
        <Badge
          size="xs"
          color={v.color}
          variant={check.by === 'analyst' ? 'outline' : 'filled'}
          data-testid="mti-verdict"
        >
          {v.label}
        </Badge>
      </button>
    </Tooltip>
  );
}

function QuestionRow({
  q,
  onAnswer,
  disabled,
}: {
  q: MtiQuestion;
  onAnswer?: (answer: string) => void;
  disabled: boolean;
}): React.JSX.Element {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState('');
  return (
    <Stack gap={2} data-testid="mti-question" data-question-id={q.id} data-kept={q.kept}>
      <Text size="sm" fw={500}>
        {q.text}
      </Text>
      <Group gap={6} wrap="nowrap" align="flex-start">
        <Text
          size="sm"
          c={q.kept ? undefined : 'dimmed'}
          td={q.kept ? undefined : 'line-through'}
          style={{ flex: 1 }}
          data-testid="mti-answer"
        >
          {q.answer ?? '—'}
        </Text>
        <By by={q.by} />
        {onAnswer && !open && (
          <Button
            size="compact-xs"
            variant="subtle"
            disabled={disabled}
            onClick={() => setOpen(true)}
            data-testid="mti-answer-instead"
          >
            Answer instead
          </Button>
        )}
      </Group>
      {!q.kept && q.dropReason && (
        <Text size="xs" c="dimmed">
          Not used: {q.dropReason}
        </Text>
      )}
      {open && onAnswer && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (text.trim() === '') return;
            onAnswer(text.trim());
            setOpen(false);
            setText('');
          }}
        >
          <Group gap={4} wrap="nowrap">
            <TextInput
              size="xs"
              style={{ flex: 1 }}
              placeholder="Your answer, e.g. red"
              value={text}
              onChange={(e) => setText(e.currentTarget.value)}
              autoFocus
              data-testid="mti-answer-input"
            />
            <Button
              size="xs"
              type="submit"
              disabled={disabled || text.trim() === ''}
              data-testid="mti-answer-submit"
            >
              Use
            </Button>
            <ActionIcon variant="subtle" color="gray" aria-label="Close" onClick={() => setOpen(false)}>
              <IconX size={14} />
            </ActionIcon>
          </Group>
        </form>
      )}
    </Stack>
  );
}

function RefinedEditor({
  round,
  onEdit,
  disabled,
}: {
  round: MtiRound;
  onEdit: (text: string) => void;
  disabled: boolean;
}): React.JSX.Element {
  const [draft, setDraft] = useState(round.refined ?? '');
  const [from, setFrom] = useState(round.refined);
  // A new q̂ arrived (an answer, another round, back): show it.
  if (from !== round.refined) {
    setFrom(round.refined);
    setDraft(round.refined ?? '');
  }
  const changed = draft.trim() !== '' && draft.trim() !== (round.refined ?? '');
  return (
    <Stack gap={4}>
      <Textarea
        autosize
        minRows={2}
        maxRows={8}
        value={draft}
        onChange={(e) => setDraft(e.currentTarget.value)}
        placeholder="Write the refined description yourself"
        aria-label="Refined query"
        data-testid="mti-refined-input"
      />
      <Group justify="flex-end" gap={6}>
        {changed && (
          <Button
            size="compact-xs"
            variant="subtle"
            color="gray"
            onClick={() => setDraft(round.refined ?? '')}
          >
            Undo edit
          </Button>
        )}
        <Button
          size="xs"
          leftSection={<IconRefresh size={14} />}
          disabled={disabled || !changed}
          onClick={() => onEdit(draft.trim())}
          data-testid="mti-rerank"
        >
          Re-rank
        </Button>
      </Group>
    </Stack>
  );
}

function RoundCard({
  round,
  latest,
  busy,
  act,
}: {
  round: MtiRound;
  latest: boolean;
  busy: boolean;
  act: (a: MtiAction) => void;
}): React.JSX.Element {
  const anchorId = round.anchor?.imageId;
  const canAct = latest && !busy;
  return (
    <Card withBorder padding="sm" radius="md" data-testid="mti-round" data-round={round.index}>
      <Group justify="space-between" mb={6}>
        <Text fw={600} size="sm">
          Round {round.index}
        </Text>
        <Text size="xs" c="dimmed" style={{ fontVariantNumeric: 'tabular-nums' }}>
          {round.calls} MLLM call{round.calls === 1 ? '' : 's'} · {(round.ms / 1000).toFixed(1)} s
        </Text>
      </Group>
      <Stack gap="sm">
        {round.checks.length > 0 && (
          <div>
            <Group justify="space-between" mb={4}>
              <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
                Does it show “{round.query.length > 60 ? `${round.query.slice(0, 60)}…` : round.query}”?
              </Text>
            </Group>
            <div className={classes.checks} data-testid="mti-checks">
              {[...round.checks]
                .sort((a, b) => a.rank - b.rank)
                .map((c) => (
                  <CheckThumb
                    key={c.imageId}
                    check={c}
                    anchor={c.imageId === anchorId}
                    disabled={!canAct}
                    onPick={latest ? (id) => act({ kind: 'pick-anchor', imageId: id }) : undefined}
                  />
                ))}
            </div>
          </div>
        )}
        {round.anchor ? (
          <Group justify="space-between" gap={6} data-testid="mti-anchor">
            <Group gap={6}>
              <Text size="sm">
                Anchor: <b>#{round.anchor.rank}</b>
              </Text>
              <By by={round.anchor.by} />
              {round.earlyStop && (
                <Tooltip
                  label="The top candidate scored above ξ and the MLLM confirmed it: no questions needed"
                  withArrow
                  multiline
                  w={260}
                >
                  <Badge size="xs" color="yellow" variant="light">
                    early stop
                  </Badge>
                </Tooltip>
              )}
            </Group>
            {latest && (
              <Button
                size="compact-xs"
                variant="light"
                color="red"
                disabled={!canAct}
                onClick={() => act({ kind: 'reject-anchor' })}
                data-testid="mti-reject-anchor"
              >
                Not this person
              </Button>
            )}
          </Group>
        ) : (
          round.index > 0 && (
            <Text size="sm" c="dimmed" data-testid="mti-no-anchor">
              {/* The note is a whole sentence that starts with "No anchor:" (mti.ts). */}
              {round.note ?? 'No anchor.'}
            </Text>
          )
        )}
        {round.questions.length > 0 && (
          <Stack gap={8} data-testid="mti-questions">
            <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
              Questions about the anchor
            </Text>
            {round.questions.map((q) => (
              <QuestionRow
                key={q.id}
                q={q}
                disabled={!canAct}
                onAnswer={latest ? (answer) => act({ kind: 'answer', questionId: q.id, answer }) : undefined}
              />
            ))}
            {round.skipped.length > 0 && (
              <Tooltip
                multiline
                w={300}
                withArrow
                label={round.skipped.map((s) => `${s.questionId}: ${s.reason}`).join('\n')}
              >
                <Text size="xs" c="dimmed">
                  {round.skipped.length} question{round.skipped.length === 1 ? '' : 's'} not asked: your words
                  already settle them
                </Text>
              </Tooltip>
            )}
          </Stack>
        )}
        {(round.refined !== null || latest) && (
          <div data-testid="mti-refined-block">
            <Group gap={6} mb={4}>
              <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
                Refined query q̂
              </Text>
              <By by={round.refinedBy} />
            </Group>
            {latest ? (
              <RefinedEditor
                round={round}
                disabled={busy}
                onEdit={(text) => act({ kind: 'edit-refined', text })}
              />
            ) : (
              <Text size="sm" data-testid="mti-refined">
                {round.refined ?? '—'}
              </Text>
            )}
          </div>
        )}
        {round.note && round.anchor && (
          <Text size="xs" c="dimmed">
            {round.note}
          </Text>
        )}
      </Stack>
    </Card>
  );
}

const PHASE: Record<LiveStep['phase'], string> = {
  check: 'Checking candidates',
  anchor: 'Anchor found',
  questions: 'Asking questions about the anchor',
  refined: 'Writing the refined query',
  ranked: 'Re-ranked',
  fallback: 'The MLLM failed',
  done: 'Done',
};

/** What the running call has done so far: the newest round state from `mti:progress`. */
function LiveCard({
  busy,
  live,
  onCancel,
}: {
  busy: string;
  live: LiveStep[];
  onCancel: () => void;
}): React.JSX.Element {
  const last = live.at(-1);
  return (
    <Card withBorder padding="sm" radius="md" data-testid="mti-live" bg="var(--mantine-color-indigo-light)">
      <Group justify="space-between" wrap="nowrap">
        <Group gap="xs" wrap="nowrap">
          <Loader size="xs" />
          <Text size="sm" data-testid="mti-live-phase">
            {last ? `${PHASE[last.phase]}…` : busy}
          </Text>
        </Group>
        <Button
          size="compact-xs"
          color="red"
          variant="light"
          leftSection={<IconPlayerStop size={12} />}
          onClick={onCancel}
          disabled={!last}
          data-testid="mti-cancel"
        >
          Cancel
        </Button>
      </Group>
      {last && last.round.checks.length > 0 && (
        <div className={classes.checks} style={{ marginTop: 8 }}>
          {[...last.round.checks]
            .sort((a, b) => a.rank - b.rank)
            .map((c) => (
              <CheckThumb
                key={c.imageId}
                check={c}
                anchor={c.imageId === last.round.anchor?.imageId}
                disabled
              />
            ))}
        </div>
      )}
    </Card>
  );
}

export function MtiTranscript({
  search,
  busy,
  live,
  error,
  onAct,
  onCancel,
}: {
  search: MtiSearch | null;
  busy: string | null;
  live: LiveStep[];
  error: string | null;
  onAct: (a: MtiAction) => void;
  onCancel: () => void;
}): React.JSX.Element {
  const t = search?.transcript;
  const rounds = t?.rounds ?? [];
  const canBack = (t?.history.length ?? 0) > 0;
  return (
    <div
      className={classes.panel}
      data-testid="mti-panel"
      data-status={search?.status ?? (busy ? 'running' : 'idle')}
    >
      <div className={classes.panelHeader}>
        <Group justify="space-between" wrap="nowrap" gap="xs">
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
            Conversation
          </Text>
          <Group gap={6}>
            <Tooltip label="Undo the last step (yours or another round)" withArrow>
              <Button
                size="compact-xs"
                variant="default"
                leftSection={<IconArrowBackUp size={13} />}
                disabled={!canBack || busy !== null}
                onClick={() => onAct({ kind: 'back' })}
                data-testid="mti-back"
              >
                Back
              </Button>
            </Tooltip>
            <Tooltip label="Examine the next candidates with q̂ and ask again" withArrow>
              <Button
                size="compact-xs"
                variant="light"
                disabled={!search || busy !== null}
                onClick={() => onAct({ kind: 'next-round' })}
                data-testid="mti-next-round"
              >
                Another round
              </Button>
            </Tooltip>
          </Group>
        </Group>
        {search && (
          <Text size="sm" mt={6} data-testid="mti-query">
            <Text span c="dimmed" size="xs">
              You asked:{' '}
            </Text>
            “{search.query}”
          </Text>
        )}
      </div>
      <div className={classes.transcript}>
        <Stack gap="sm" pt="xs">
          {error && (
            <Alert
              color="red"
              icon={<IconAlertTriangle size={16} />}
              title="MTI could not run"
              data-testid="mti-error"
              style={{ whiteSpace: 'pre-wrap' }}
            >
              {error}
            </Alert>
          )}
          {t?.fallback && !busy && (
            <Alert
              color="orange"
              icon={<IconAlertTriangle size={16} />}
              title="Showing the plain ranking"
              data-testid="mti-fallback"
            >
              {t.fallback}
            </Alert>
          )}
          {rounds.map((r, i) => (
            <RoundCard
              key={`${r.index}-${i}`}
              round={r}
              latest={i === rounds.length - 1}
              busy={busy !== null}
              act={onAct}
            />
          ))}
          {search && rounds.length === 0 && !busy && (
            <Text size="sm" c="dimmed">
              No round ran. Write a refined description yourself to re-rank:
            </Text>
          )}
          {search && rounds.length === 0 && !busy && (
            <RefinedEditor
              round={{
                index: 0,
                query: search.query,
                checks: [],
                anchor: null,
                earlyStop: false,
                questions: [],
                skipped: [],
                refined: null,
                refinedBy: null,
                calls: 0,
                ms: 0,
                note: null,
              }}
              disabled={false}
              onEdit={(text) => onAct({ kind: 'edit-refined', text })}
            />
          )}
          {busy && <LiveCard busy={busy} live={live} onCancel={onCancel} />}
        </Stack>
      </div>
    </div>
  );
}
