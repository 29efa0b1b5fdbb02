// The review desk: the image large on the left; on the right the caption in an editor, the diff against
// the generated text, the CLIP score, the MTG evidence, the dataset's own captions and the audit trail.
// Every decision is one key (see keys.ts); the Dashboard tab has the charts.
import {
  Alert,
  Badge,
  Box,
  Button,
  Card,
  Grid,
  Group,
  Kbd,
  Loader,
  ScrollArea,
  SegmentedControl,
  Stack,
  Text,
  Textarea,
  TextInput,
  Title,
  Tooltip,
} from '@mantine/core';
import {
  IconAlertTriangle,
  IconArrowBackUp,
  IconChecklist,
  IconDownload,
  IconKeyboard,
} from '@tabler/icons-react';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { CaptionStatus } from '#shared/library/types';
import type { ReviewFilter } from '#shared/review/types';
import { asCaptionId } from '#shared/ids';
import { parseReviewFilter } from '#shared/review/filter';
import { parseHash, routeHref, useRoute } from '../../app/router';
import { imageUrl, invoke } from '../../lib/api';
import { useQuery } from '@tanstack/react-query';
import { reviewQueries } from '../../lib/queries';
import { useInvalidate } from '../../lib/serverState';
import { useSession } from '../../lib/session';
import { DashboardView } from '../dashboard/DashboardView';
import { ExportModal } from './ExportModal';
import { ImageViewer, type ImageViewerHandle } from './ImageViewer';
import { actionOf } from './keys';
import { CheatSheet, DiffView, EvidencePanel, HistoryList } from './Panels';
import { ReviewFilters } from './ReviewFilters';
import { useReviewDesk } from './useReviewDesk';

const STATUS_COLOR: Record<CaptionStatus, string> = {
  pending: 'gray',
  accepted: 'teal',
  rejected: 'red',
  flagged: 'orange',
};
const FILTER_KEY = 'ctgi.review.filter';
const REVIEWER_KEY = 'ctgi.reviewer';

/** What the desk is for until the annotator says otherwise: generated captions that wait for a decision. */
const DEFAULT_REVIEW_FILTER: ReviewFilter = { statuses: ['pending'], sources: ['mtg', 'edited'] };

/**
 * The annotator's last filter. Kept in localStorage, like the reviewer's name: it is how this person
 * works through the queue, so a new tab, a link opened from elsewhere or the next day's session goes on
 * with it (the URL carries only the caption on screen, which is what a link is shared for).
 */
function loadFilter(): ReviewFilter {
  try {
    const raw = localStorage.getItem(FILTER_KEY);
    if (raw === null) return DEFAULT_REVIEW_FILTER;
    return parseReviewFilter(JSON.parse(raw)) ?? DEFAULT_REVIEW_FILTER;
  } catch {
    return DEFAULT_REVIEW_FILTER;
  }
}

function scoreColor(v: number): string {
  return v >= 0.3 ? 'teal' : v >= 0.2 ? 'yellow' : 'red';
}

export function ReviewView(): React.JSX.Element {
  const { params, setParams } = useRoute();
  const tab = params.get('tab') === 'dashboard' ? 'dashboard' : 'desk';
  const [exportOpen, setExportOpen] = useState(false);
  return (
    <Stack gap="sm" h="100%" style={{ minHeight: 0 }}>
      <Group justify="space-between">
        <Group gap="sm">
          <IconChecklist size={22} />
          <Title order={3}>Review</Title>
          <SegmentedControl
            size="xs"
            value={tab}
            onChange={(v) => setParams({ tab: v === 'desk' ? undefined : v }, true)}
            data={[
              { value: 'desk', label: 'Desk' },
              { value: 'dashboard', label: 'Dashboard' },
            ]}
            data-testid="review-tab"
          />
        </Group>
        <Button
          variant="light"
          leftSection={<IconDownload size={16} />}
          onClick={() => setExportOpen(true)}
          data-testid="export-open"
        >
          Export…
        </Button>
      </Group>
      {tab === 'desk' ? <Desk /> : <DashboardView />}
      <ExportModal opened={exportOpen} onClose={() => setExportOpen(false)} />
    </Stack>
  );
}

/** How often the desk renews the lease on the caption it shows while its person is at the keyboard. */
const LEASE_RENEW_MS = 30_000;

/**
 * Who holds the caption on screen (issue 13.2), looked up when it changes. For a signed-in teammate the
 * lease on their own caption is renewed while they work (a key pressed since the last renewal) and left
 * to expire when they go idle, so an abandoned caption goes back to the team.
 */
function useCaptionLease(
  captionId: number | null,
  me: string | null,
): { holder: string; mine: boolean } | null {
  const [lease, setLease] = useState<{ id: number; holder: string } | null>(null);
  useEffect(() => {
    if (captionId === null) return;
    let live = true;
    invoke('review:leases', { captionIds: [asCaptionId(captionId)] }).then(
      (ls) => {
        if (live) setLease(ls[0] ? { id: captionId, holder: ls[0].holder } : null);
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, [captionId]);
  useEffect(() => {
    if (captionId === null || me === null) return;
    let active = false;
    const onKey = (): void => {
      active = true;
    };
    window.addEventListener('keydown', onKey);
    const timer = setInterval(() => {
      if (!active) return;
      active = false;
      invoke('review:renew', { captionIds: [asCaptionId(captionId)] }).catch(() => {});
    }, LEASE_RENEW_MS);
    return () => {
      window.removeEventListener('keydown', onKey);
      clearInterval(timer);
    };
  }, [captionId, me]);
  if (!lease || lease.id !== captionId) return null;
  return { holder: lease.holder, mine: lease.holder === me };
}

function Desk(): React.JSX.Element {
  const { params } = useRoute();
  const [filter, setFilterState] = useState<ReviewFilter>(loadFilter);
  const filterKey = JSON.stringify(filter);
  const [reviewer, setReviewer] = useState(() => localStorage.getItem(REVIEWER_KEY) ?? 'annotator');
  const session = useSession();
  const [help, setHelp] = useState(false);
  const viewer = useRef<ImageViewerHandle>(null);
  const editor = useRef<HTMLTextAreaElement>(null);
  const startAt = params.get('caption');

  const setFilter = useCallback((f: ReviewFilter): void => {
    localStorage.setItem(FILTER_KEY, JSON.stringify(f));
    setFilterState(f);
  }, []);
  // The caption in the address bar lets a reload (or a second window) open the same one. Written
  // without a hashchange event: the route is only read on mount, and re-rendering the shell on every
  // move would cost a frame on each keypress.
  const onShow = useCallback((id: number) => {
    const current = Object.fromEntries(parseHash(location.hash).params);
    history.replaceState(history.state, '', routeHref('review', { ...current, caption: String(id) }));
  }, []);
  const desk = useReviewDesk(
    filter,
    filterKey,
    reviewer.trim() || 'annotator',
    startAt ? asCaptionId(Number(startAt)) : null,
    onShow,
  );
  const count = useQuery(reviewQueries.queueCount(filter));
  const invalidate = useInvalidate();
  const item = desk.item;
  const lease = useCaptionLease(item?.caption.id ?? null, session?.kind === 'user' ? session.name : null);

  // The editor's draft belongs to the caption on screen; a new caption (or version) starts from its text.
  const [draft, setDraft] = useState({ key: '', text: '' });
  const itemKey = item ? `${item.caption.id}:${item.caption.version}` : '';
  if (item && draft.key !== itemKey) setDraft({ key: itemKey, text: item.caption.text });
  const text = draft.key === itemKey ? draft.text : (item?.caption.text ?? '');
  const dirty = item !== null && text.trim() !== item.caption.text;

  // A decision moves captions in or out of the queue: its count is stale.
  const after = useCallback(() => invalidate('review:queue'), [invalidate]);
  const { restart } = desk;
  const onBulkDone = useCallback(() => {
    after();
    void restart();
  }, [after, restart]);
  const accept = useCallback(async () => {
    if (!item) return;
    if (dirty) await desk.edit(text, 'accepted');
    else await desk.decide('accept');
    after();
  }, [item, dirty, desk, text, after]);

  // One key per action. In the editor only Ctrl+Enter (accept with edits) and Esc act.
  const handler = useRef<(e: KeyboardEvent) => void>(() => undefined);
  useEffect(() => {
    handler.current = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      const inEditor = target === editor.current;
      if (inEditor) {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          void accept();
          editor.current?.blur();
        } else if (e.key === 'Escape') editor.current?.blur();
        return;
      }
      if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.isContentEditable))
        return;
      if (document.querySelector('[role=dialog]')) return;
      const action = actionOf(e);
      if (!action) return;
      e.preventDefault();
      switch (action) {
        case 'accept':
          void accept();
          break;
        case 'reject':
          void desk.decide('reject').then(after);
          break;
        case 'flag':
          void desk.decide('flag').then(after);
          break;
        case 'pending':
          void desk.decide('reset').then(after);
          break;
        case 'edit':
          editor.current?.focus();
          break;
        case 'next':
          void desk.go('next');
          break;
        case 'prev':
          void desk.go('prev');
          break;
        case 'nextUnreviewed':
          void desk.go('next', true);
          break;
        case 'undo':
          void desk.undo().then(after);
          break;
        case 'reload':
          void desk.reload();
          break;
        case 'zoomIn':
          viewer.current?.zoom(1.5);
          break;
        case 'zoomOut':
          viewer.current?.zoom(1 / 1.5);
          break;
        case 'zoomReset':
          viewer.current?.reset();
          break;
        case 'help':
          setHelp(true);
          break;
        default:
          break;
      }
    };
  });
  useEffect(() => {
    const on = (e: KeyboardEvent): void => handler.current(e);
    window.addEventListener('keydown', on);
    return () => window.removeEventListener('keydown', on);
  }, []);

  return (
    <Stack gap="sm" style={{ flex: 1, minHeight: 0 }}>
      <ReviewFilters
        filter={filter}
        onChange={setFilter}
        total={count.data?.total ?? null}
        reviewer={reviewer}
        onBulkDone={onBulkDone}
      />
      {desk.conflict && (
        <Alert
          color="orange"
          icon={<IconAlertTriangle size={18} />}
          title="Changed elsewhere"
          data-testid="review-conflict"
        >
          <Group justify="space-between">
            <Text size="sm">{desk.conflict}</Text>
            <Button size="xs" variant="light" color="orange" onClick={() => void desk.reload()}>
              Reload{' '}
              <Kbd size="xs" ml={6}>
                Shift R
              </Kbd>
            </Button>
          </Group>
        </Alert>
      )}
      {desk.error && (
        <Alert color="red" icon={<IconAlertTriangle size={18} />} title="Could not load the queue">
          {desk.error}
        </Alert>
      )}
      {!item && !desk.loading && !desk.error && (
        <Card withBorder padding="xl" data-testid="review-empty">
          <Text fw={600}>Nothing to review with this filter.</Text>
          <Text size="sm" c="dimmed">
            The desk opens on generated captions that wait for a decision. They arrive once an MTG job has run
            (Library → Generate captions). Change the filter, or show every caption, to see the others.
          </Text>
          <Group mt="sm">
            <Button size="xs" variant="light" onClick={() => setFilter({})} data-testid="review-show-all">
              Show every caption
            </Button>
          </Group>
        </Card>
      )}
      {!item && desk.loading && <Loader size="sm" />}
      {item && (
        <Grid gap="md" style={{ flex: 1, minHeight: 0 }} styles={{ inner: { height: '100%' } }}>
          <Grid.Col span={{ base: 12, md: 5 }} h="100%" mih={360}>
            <ImageViewer
              ref={viewer}
              src={imageUrl(item.image.id, 'full')}
              alt={item.image.relPath}
              captionId={item.caption.id}
            />
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 7 }} h="100%">
            <ScrollArea h="100%" type="auto" offsetScrollbars>
              <Stack
                gap="sm"
                data-testid="review-item"
                data-caption-id={item.caption.id}
                data-status={item.caption.status}
                data-version={item.caption.version}
              >
                <Group justify="space-between" wrap="nowrap">
                  <Group gap={6}>
                    <Badge color={STATUS_COLOR[item.caption.status]} data-testid="review-status">
                      {item.caption.status}
                    </Badge>
                    {lease && (
                      <Tooltip label="Leased to them while they work on it: your decision would be refused.">
                        <Badge color="orange" variant="light" data-testid="review-lease">
                          {lease.mine ? 'leased to you' : `being reviewed by ${lease.holder}`}
                        </Badge>
                      </Tooltip>
                    )}
                    <Badge variant="outline" color="gray">
                      {item.caption.source}
                    </Badge>
                    {item.score && (
                      <Tooltip
                        label={`CLIP image–text cosine (${item.score.model}); low values suggest the text describes something not in the image`}
                      >
                        <Badge
                          variant="light"
                          color={scoreColor(item.score.value)}
                          data-testid="review-score"
                        >
                          score {item.score.value.toFixed(3)}
                        </Badge>
                      </Tooltip>
                    )}
                    <Text size="xs" c="dimmed" data-testid="review-where">
                      {item.image.datasetName} · {item.image.relPath}
                      {item.image.personId ? ` · person ${item.image.personId}` : ''}
                      {item.image.split ? ` · ${item.image.split}` : ''}
                    </Text>
                  </Group>
                  <Group gap={4} wrap="nowrap">
                    {session?.kind === 'user' ? (
                      // A teammate on a shared server: decisions go under their own name, never a typed one.
                      <Badge variant="light" size="lg" data-testid="review-signed-in">
                        {session.name} · {session.role}
                      </Badge>
                    ) : (
                      <TextInput
                        size="xs"
                        w={120}
                        aria-label="Reviewer"
                        value={reviewer}
                        onChange={(e) => {
                          setReviewer(e.currentTarget.value);
                          localStorage.setItem(REVIEWER_KEY, e.currentTarget.value);
                        }}
                      />
                    )}
                    <Tooltip label="Keyboard (?)">
                      <Button
                        size="xs"
                        variant="default"
                        onClick={() => setHelp(true)}
                        leftSection={<IconKeyboard size={14} />}
                        data-testid="review-help"
                      >
                        Keys
                      </Button>
                    </Tooltip>
                  </Group>
                </Group>
                <Textarea
                  ref={editor}
                  autosize
                  minRows={3}
                  maxRows={8}
                  value={text}
                  onChange={(e) => setDraft({ key: itemKey, text: e.currentTarget.value })}
                  aria-label="Caption"
                  data-testid="review-editor"
                />
                <Group gap={6}>
                  <Button
                    size="xs"
                    color="teal"
                    onClick={() => void accept()}
                    disabled={desk.busy}
                    data-testid="review-accept"
                  >
                    {dirty ? 'Accept with edits' : 'Accept'}{' '}
                    <Kbd size="xs" ml={6}>
                      {dirty ? 'Ctrl ↵' : 'a'}
                    </Kbd>
                  </Button>
                  <Button
                    size="xs"
                    color="red"
                    variant="light"
                    onClick={() => void desk.decide('reject').then(after)}
                    disabled={desk.busy}
                    data-testid="review-reject"
                  >
                    Reject{' '}
                    <Kbd size="xs" ml={6}>
                      r
                    </Kbd>
                  </Button>
                  <Button
                    size="xs"
                    color="orange"
                    variant="light"
                    onClick={() => void desk.decide('flag').then(after)}
                    disabled={desk.busy}
                    data-testid="review-flag"
                  >
                    Flag{' '}
                    <Kbd size="xs" ml={6}>
                      f
                    </Kbd>
                  </Button>
                  <Button
                    size="xs"
                    variant="default"
                    onClick={() => void desk.go('prev')}
                    data-testid="review-prev"
                  >
                    Previous{' '}
                    <Kbd size="xs" ml={6}>
                      k
                    </Kbd>
                  </Button>
                  <Button
                    size="xs"
                    variant="default"
                    onClick={() => void desk.go('next')}
                    data-testid="review-next"
                  >
                    Next{' '}
                    <Kbd size="xs" ml={6}>
                      j
                    </Kbd>
                  </Button>
                  <Button size="xs" variant="default" onClick={() => void desk.go('next', true)}>
                    Next unreviewed{' '}
                    <Kbd size="xs" ml={6}>
                      n
                    </Kbd>
                  </Button>
                  <Button
                    size="xs"
                    variant="subtle"
                    leftSection={<IconArrowBackUp size={14} />}
                    onClick={() => void desk.undo().then(after)}
                    data-testid="review-undo"
                  >
                    Undo{' '}
                    <Kbd size="xs" ml={6}>
                      u
                    </Kbd>
                  </Button>
                </Group>
                {desk.atEnd && (
                  <Text size="sm" c="dimmed" data-testid="review-at-end">
                    {desk.atEnd === 'next' ? 'End of the queue.' : 'Start of the queue.'}
                  </Text>
                )}
                <Card withBorder padding="sm">
                  <Text size="xs" c="dimmed" mb={4}>
                    {item.original.source === 'human' ? 'Dataset caption' : 'Generated caption'} →{' '}
                    {dirty ? 'your edit' : 'this caption'}
                  </Text>
                  <DiffView before={item.original.text} after={text} />
                </Card>
                <EvidencePanel item={item} />
                {item.humanCaptions.length > 0 && (
                  <Card withBorder padding="sm" data-testid="review-human">
                    <Text size="sm" fw={600} mb={4}>
                      The dataset’s own captions
                    </Text>
                    {item.humanCaptions.map((h) => (
                      <Text key={h.captionId} size="sm" mb={4}>
                        {h.text}
                      </Text>
                    ))}
                  </Card>
                )}
                <Box>
                  <Text size="sm" fw={600} mb={6}>
                    History
                  </Text>
                  <HistoryList history={item.history} />
                </Box>
              </Stack>
            </ScrollArea>
          </Grid.Col>
        </Grid>
      )}
      <CheatSheet opened={help} onClose={() => setHelp(false)} />
    </Stack>
  );
}
