// The MTG evidence of one image, for the Library drawer: the initial caption, every Q&A round with
// whether it was kept (and the fact it adds) or dropped (and why), the questions skipped because they
// were already settled, and the reconstructed caption with its review status.
import {
  Badge,
  Box,
  Card,
  Collapse,
  Group,
  SegmentedControl,
  Stack,
  Text,
  Timeline,
  Tooltip,
  UnstyledButton,
} from '@mantine/core';
import {
  IconChevronDown,
  IconChevronRight,
  IconMessageQuestion,
  IconSparkles,
  IconTextCaption,
} from '@tabler/icons-react';
import { useState } from 'react';
import type { Caption } from '#shared/library/types';
import type { DropReason, MtgRun, QaRound } from '#shared/mtg/types';
import type { ImageId } from '#shared/ids';
import { formatCount, formatDuration, formatTime } from '../../lib/format';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../../lib/hooks';
import { mtgQueries } from '../../lib/queries';
import { CAPTION_STATUS_COLOR } from '../../lib/labels';

export const DROP_REASON_LABEL: Record<DropReason, string> = {
  not_visible: 'not visible',
  refusal: 'refused',
  negative: 'absent',
  redundant: 'redundant',
  empty: 'empty answer',
  error: 'call failed',
  unverified: 'not confirmed',
};

const DROP_REASON_HINT: Record<DropReason, string> = {
  not_visible: 'The answer says this cannot be seen in the image',
  refusal: 'The model declined to answer',
  negative: 'The thing asked about is not there; saying so adds nothing to the caption',
  redundant: 'The caption or an earlier answer already says this',
  empty: 'The model answered nothing usable',
  error: 'The call failed; the round was left out',
  unverified:
    'A second yes/no question about this answer got "No", so it was left out (MTG run with verification)',
};

function Round({ round }: { round: QaRound }): React.JSX.Element {
  return (
    <Box data-testid="mtg-round" data-kept={round.kept} data-reason={round.dropReason ?? ''}>
      <Group gap={6} wrap="nowrap" align="flex-start" justify="space-between">
        <Text size="sm" fw={600} lh={1.4}>
          <Text span size="xs" c="dimmed" fw={600} mr={6} style={{ fontVariantNumeric: 'tabular-nums' }}>
            Q{round.index + 1}
          </Text>
          {round.question}
        </Text>
        {round.kept ? (
          <Badge size="sm" color="teal" variant="light" style={{ flexShrink: 0 }}>
            kept
          </Badge>
        ) : (
          <Tooltip
            label={round.dropDetail ?? DROP_REASON_HINT[round.dropReason ?? 'empty']}
            multiline
            maw={320}
            withArrow
          >
            <Badge
              size="sm"
              color="gray"
              variant="light"
              style={{ flexShrink: 0 }}
              data-testid="mtg-drop-reason"
            >
              dropped · {DROP_REASON_LABEL[round.dropReason ?? 'empty']}
            </Badge>
          </Tooltip>
        )}
      </Group>
      <Text
        size="sm"
        c={round.kept ? undefined : 'dimmed'}
        td={round.kept ? undefined : 'line-through'}
        lh={1.5}
        data-testid="mtg-answer"
      >
        {round.answer ?? '—'}
      </Text>
      {round.kept && round.fact && (
        <Text size="xs" c="teal.7">
          adds: {round.fact}
        </Text>
      )}
      {!round.kept && round.dropDetail && (
        <Text size="xs" c="dimmed">
          {round.dropDetail}
        </Text>
      )}
    </Box>
  );
}

function RunView({ run, caption }: { run: MtgRun; caption: Caption | undefined }): React.JSX.Element {
  const [showSkipped, setShowSkipped] = useState(false);
  const kept = run.rounds.filter((r) => r.kept).length;
  const tokens = run.promptTokens + run.completionTokens;
  return (
    <Stack gap="sm" data-testid="mtg-run" data-status={run.status}>
      <Text size="xs" c="dimmed">
        {run.vqa.model}
        {run.reconstructor.model !== run.vqa.model ? ` → ${run.reconstructor.model}` : ''} · prompts{' '}
        {run.promptSet.name} v{run.promptSet.version} · {formatCount(run.calls)} calls
        {run.cachedCalls > 0 ? ` (${formatCount(run.cachedCalls)} cached)` : ''} · {formatCount(tokens)}{' '}
        tokens · {formatDuration(run.elapsedMs / 1000)} · {formatTime(run.createdAt)}
      </Text>
      {run.status === 'failed' && (
        <Text size="sm" c="red" data-testid="mtg-run-error">
          This run failed: {run.error}
        </Text>
      )}
      {run.status === 'done' && (
        <Timeline bulletSize={22} lineWidth={2} active={run.rounds.length + 1}>
          <Timeline.Item
            bullet={<IconTextCaption size={13} />}
            title={
              <Text size="sm" fw={650}>
                Initial caption
              </Text>
            }
          >
            <Text size="sm" lh={1.55} data-testid="mtg-initial">
              {run.initialCaption}
            </Text>
          </Timeline.Item>
          <Timeline.Item
            bullet={<IconMessageQuestion size={13} />}
            title={
              <Text size="sm" fw={650}>
                {run.rounds.length} question{run.rounds.length === 1 ? '' : 's'} · {kept} kept ·{' '}
                {run.rounds.length - kept} dropped
              </Text>
            }
          >
            <Stack gap="xs" mt={4} data-testid="mtg-rounds">
              {run.rounds.map((r) => (
                <Round key={r.index} round={r} />
              ))}
              {run.skipped.length > 0 && (
                <>
                  <UnstyledButton onClick={() => setShowSkipped((s) => !s)} data-testid="mtg-skipped-toggle">
                    <Group gap={4}>
                      {showSkipped ? <IconChevronDown size={14} /> : <IconChevronRight size={14} />}
                      <Text size="xs" c="dimmed">
                        {run.skipped.length} question{run.skipped.length === 1 ? '' : 's'} not asked: already
                        settled
                      </Text>
                    </Group>
                  </UnstyledButton>
                  <Collapse expanded={showSkipped}>
                    <Stack gap={2}>
                      {run.skipped.map((s) => (
                        <Text key={s.questionId} size="xs" c="dimmed">
                          <Text span ff="monospace" size="xs">
                            {s.questionId}
                          </Text>{' '}
                          — {s.reason}
                        </Text>
                      ))}
                    </Stack>
                  </Collapse>
                </>
              )}
            </Stack>
          </Timeline.Item>
          <Timeline.Item
            bullet={<IconSparkles size={13} />}
            title={
              <Group gap={6}>
                <Text size="sm" fw={650}>
                  Reconstructed caption
                </Text>
                {caption && (
                  <Badge
                    size="sm"
                    variant="light"
                    color={CAPTION_STATUS_COLOR[caption.status]}
                    data-testid="mtg-caption-status"
                  >
                    {caption.status}
                  </Badge>
                )}
              </Group>
            }
          >
            <Text size="sm" lh={1.55} fw={500} data-testid="mtg-reconstruction">
              {caption?.text ?? run.reconstruction ?? run.initialCaption}
            </Text>
            {!run.reconstruction && (
              <Text size="xs" c="dimmed">
                No answer was kept, so the initial caption stands.
              </Text>
            )}
          </Timeline.Item>
        </Timeline>
      )}
    </Stack>
  );
}

/** Nothing at all for an image MTG has not touched; the drawer then shows only its captions. */
export function MtgEvidence({
  imageId,
  captions,
}: {
  imageId: ImageId;
  captions: Caption[];
}): React.JSX.Element | null {
  // A batch may be writing this very image while the drawer is open: stale on MTG progress.
  const runs = useQuery(mtgQueries.runs(imageId));
  const [picked, setPicked] = useState<number | null>(null);
  const list = runs.data ?? [];
  if (runs.error) {
    return (
      <Text size="sm" c="red">
        Could not load the MTG rounds: {errorMessage(runs.error)}
      </Text>
    );
  }
  if (list.length === 0) return null;
  const run = list.find((r) => r.id === picked) ?? list[0]!;
  return (
    <Card padding="sm" data-testid="mtg-evidence">
      <Group justify="space-between" mb={6}>
        <Text fw={650} size="sm" tt="uppercase" c="dimmed" style={{ letterSpacing: '0.04em' }}>
          MTG evidence
        </Text>
        {list.length > 1 && (
          <SegmentedControl
            size="xs"
            value={String(run.id)}
            onChange={(v) => setPicked(Number(v))}
            data={list.map((r, i) => ({
              value: String(r.id),
              label: i === 0 ? 'Latest run' : `Run ${list.length - i}`,
            }))}
          />
        )}
      </Group>
      <RunView run={run} caption={captions.find((c) => c.id === run.captionId)} />
    </Card>
  );
}
