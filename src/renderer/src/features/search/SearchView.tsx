import {
  Alert,
  Anchor,
  Badge,
  Button,
  Center,
  EmptyState,
  Group,
  Loader,
  Progress,
  SegmentedControl,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
  Tooltip,
} from '@mantine/core';
import {
  IconAlertTriangle,
  IconBoxModel2,
  IconCpu,
  IconDatabase,
  IconSearch,
  IconSearchOff,
  IconSparkles,
} from '@tabler/icons-react';
import { useCallback, useState } from 'react';
import type { ClipModel } from '#shared/models/types';
import type { QueryTokens } from '#shared/search/types';
import type { DatasetId, ImageId, ModelId } from '#shared/ids';
import { routeHref, useRoute } from '../../app/router';
import { formatCount } from '../../lib/format';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../../lib/hooks';
import { libraryQueries, searchQueries } from '../../lib/queries';
import { ImageDrawer } from '../library/ImageDrawer';
import { useGridSelection } from '../../lib/useGridSelection';
import { MtiReport } from '../mti/MtiReport';
import { MtiView } from '../mti/MtiView';
import { ResultGrid } from './ResultGrid';
import { FrameViewer } from '../../lib/footage/FrameViewer';
import { TrackResults } from '../../lib/footage/TrackResults';
import { FootageFilters, useFootageFilter } from '../../lib/footage/filters';
import { useEmbed } from './useEmbed';

/** Results fetched per search: enough to scroll through, small enough to answer at once. */
const TOP_K = 200;
const EXAMPLES = [
  'a man in a red t-shirt and black trousers',
  'woman with long brown hair and a blue backpack',
  'person in a yellow hoodie',
];
/** Long-CLIP's stretched context (ALGORITHMS.md §2). */
const PES_CONTEXT = 248;

const positiveId = (s: string | null): number | undefined => {
  const n = Number(s);
  return Number.isInteger(n) && n > 0 ? n : undefined;
};

/** Live "23 / 77 tokens" under the query box; asks the server's tokenizer, debounced. */
function useTokenCount(modelId: ModelId | undefined, text: string): QueryTokens | null {
  const [debounced] = useDebouncedValue(text, 120);
  // The count is a hint: a failed one shows nothing and must not block searching.
  const tokens = useQuery({
    ...searchQueries.tokens(modelId ?? (1 as ModelId), debounced),
    enabled: modelId !== undefined,
  });
  return tokens.data ?? null;
}

function TokenCount({
  tokens,
  model,
}: {
  tokens: QueryTokens | null;
  model: ClipModel | undefined;
}): React.JSX.Element {
  if (!tokens)
    return (
      <Text size="xs" c="dimmed">
        &nbsp;
      </Text>
    );
  return (
    <Group gap="xs" data-testid="token-count-row">
      <Text
        size="xs"
        c={tokens.truncated ? 'orange' : 'dimmed'}
        data-testid="token-count"
        style={{ fontVariantNumeric: 'tabular-nums' }}
      >
        {tokens.count} / {tokens.contextLength} tokens
      </Text>
      {tokens.truncated && (
        <Tooltip
          multiline
          w={340}
          label={
            model && model.contextLength < PES_CONTEXT
              ? `“${model.name}” reads ${model.contextLength} tokens; the words after that are ignored. A PES-stretched copy reads ${PES_CONTEXT}: run \`ctgi pes\` on its folder and register the result in Settings → Models.`
              : 'The words past the model’s context are ignored. Shorten the description.'
          }
        >
          <Badge
            color="orange"
            variant="light"
            size="sm"
            leftSection={<IconAlertTriangle size={12} />}
            data-testid="token-truncated"
          >
            Truncated: {tokens.count - tokens.contextLength} tokens ignored
            {model && model.contextLength < PES_CONTEXT ? ` · try a ${PES_CONTEXT}-token PES model` : ''}
          </Badge>
        </Tooltip>
      )}
    </Group>
  );
}

function EmbedPrompt({
  model,
  datasetId,
  count,
  compact,
}: {
  model: ClipModel;
  datasetId: DatasetId | undefined;
  count: number;
  compact?: boolean;
}): React.JSX.Element {
  const embed = useEmbed();
  const job = embed.running;
  const button = (
    <Button
      size={compact ? 'xs' : 'sm'}
      variant={compact ? 'light' : 'filled'}
      leftSection={<IconSparkles size={16} />}
      loading={embed.starting}
      disabled={job !== null}
      onClick={() => void embed.start(model.id, datasetId)}
      data-testid="embed-start"
    >
      Embed {formatCount(count)} image{count === 1 ? '' : 's'}
    </Button>
  );
  const progress = job && (
    <Stack gap={4} w={compact ? 220 : 320} data-testid="embed-progress">
      <Text size="xs" c="dimmed">
        Embedding {formatCount(job.done)} / {job.total === null ? '…' : formatCount(job.total)}
        {job.message ? ` · ${job.message}` : ''}
      </Text>
      <Progress value={job.total ? (100 * job.done) / job.total : 0} size="sm" animated />
    </Stack>
  );
  if (compact) {
    return (
      <Alert color="yellow" variant="light" p="xs" data-testid="search-partial">
        <Group justify="space-between" gap="sm">
          <Text size="sm">
            {formatCount(count)} image{count === 1 ? ' is' : 's are'} not embedded with “{model.name}” yet and
            cannot be found.
          </Text>
          {progress ?? button}
        </Group>
      </Alert>
    );
  }
  return (
    <Center style={{ flex: 1 }}>
      <EmptyState
        maw={500}
        icon={<IconDatabase size={36} stroke={1.4} />}
        withIndicatorBackground
        title={`No images are embedded with “${model.name}” yet`}
        description="Search compares your description with a vector per image. Embedding computes those vectors once, in the background; you can keep working meanwhile."
        data-testid="search-no-embeddings"
      >
        <EmptyState.Actions>{progress ?? button}</EmptyState.Actions>
      </EmptyState>
    </Center>
  );
}

export function SearchView(): React.JSX.Element {
  const { params, setParams } = useRoute();
  const models = useQuery(searchQueries.models());
  const datasets = useQuery(libraryQueries.datasets());
  const q = params.get('q') ?? '';
  const modelList = models.data ?? [];
  const modelId = (positiveId(params.get('model')) ?? modelList[0]?.id) as ModelId | undefined;
  const model = modelList.find((m) => m.id === modelId);
  const datasetId = positiveId(params.get('dataset')) as DatasetId | undefined;
  // Plain ranking, MTI's conversation beside its re-ranking, or MTI's evaluation report.
  const tab = params.get('tab') === 'mti' ? 'mti' : params.get('tab') === 'report' ? 'report' : 'ranking';
  const mtiSearchId = positiveId(params.get('search'));
  const [mtiNonce, setMtiNonce] = useState(0);

  const [draft, setDraft] = useState(q);
  const [draftFor, setDraftFor] = useState(q);
  // Back/forward or an example link changed the query: show it in the box.
  if (draftFor !== q) {
    setDraftFor(q);
    setDraft(q);
  }
  const tokens = useTokenCount(modelId, draft);

  // Footage filters: cameras by name, a wall-clock range (UTC); results by crop or grouped by track.
  const footageFilter = useFootageFilter(params, setParams);
  const { cameras, fromMs, toMs, byTrack, filtered } = footageFilter;
  const [frameOf, setFrameOf] = useState<ImageId | null>(null);

  const ready = q.trim() !== '' && model !== undefined;
  const searchKey = `${modelId}|${datasetId}|${q}|${cameras.join(',')}|${fromMs}|${toMs}`;
  // Fresh after a change to the library, and when an embed job ends (lib/queries.ts).
  const search = useQuery({
    ...searchQueries.text({
      modelId: modelId ?? (1 as ModelId),
      query: q,
      k: TOP_K,
      datasetId,
      ...(cameras.length ? { cameras } : {}),
      ...(fromMs !== undefined ? { fromMs } : {}),
      ...(toMs !== undefined ? { toMs } : {}),
    }),
    enabled: ready && tab === 'ranking',
  });
  const searchError = search.error ? errorMessage(search.error) : null;
  const result = ready && search.data && search.data.modelId === modelId ? search.data : undefined;

  const results = result?.results;
  const resolve = useCallback((index: number) => results?.[index]?.image.id, [results]);
  const { grid, selection, selectedIndex, select, close, move } = useGridSelection(searchKey, resolve);
  // A footage crop opens on its frame; any other image in the drawer.
  const openHit = (index: number): void => {
    const hit = results?.[index];
    if (hit?.footage) setFrameOf(hit.image.id);
    else select(index);
  };

  const submit = (text: string): void => {
    // On the conversation tab the button starts a new MTI search (it costs MLLM calls, so only on a press).
    setParams({
      q: text.trim(),
      model: modelId ? String(modelId) : undefined,
      ...(tab === 'mti' ? { search: undefined } : {}),
    });
    if (tab === 'mti') setMtiNonce((n) => n + 1);
  };

  let body: React.ReactNode;
  if (models.error) {
    body = (
      <Alert color="red" icon={<IconAlertTriangle size={18} />} title="Could not list the models">
        {errorMessage(models.error)}
      </Alert>
    );
  } else if (models.data && modelList.length === 0) {
    body = (
      <Center style={{ flex: 1 }}>
        <EmptyState
          maw={500}
          icon={<IconBoxModel2 size={36} stroke={1.4} />}
          withIndicatorBackground
          title="No CLIP model is registered"
          description="Search needs a CLIP model folder (ONNX image and text towers). Register one in Settings → Models; `ctgi synth` writes a toy CLIP you can try."
          data-testid="search-no-models"
        >
          <EmptyState.Actions>
            <Button component="a" href={routeHref('settings', { section: 'models' })}>
              Register a model
            </Button>
          </EmptyState.Actions>
        </EmptyState>
      </Center>
    );
  } else if (!models.data) {
    body = (
      <Center style={{ flex: 1 }}>
        <Loader type="dots" />
      </Center>
    );
  } else if (model && model.embeddedImages === 0) {
    const inScope = (datasets.data ?? []).filter((d) => datasetId === undefined || d.id === datasetId);
    body = (
      <EmbedPrompt
        model={model}
        datasetId={datasetId}
        count={inScope.reduce((n, d) => n + d.imageCount, 0)}
      />
    );
  } else if (!ready) {
    body = (
      <Center style={{ flex: 1 }}>
        <EmptyState
          maw={520}
          icon={<IconSearch size={36} stroke={1.4} />}
          withIndicatorBackground
          title="Describe the person you are looking for"
          description="Clothes, colours, hair, bags: the gallery is ranked by how well each image matches your words."
          data-testid="search-idle"
        >
          <Stack gap={4} align="center">
            {EXAMPLES.map((e) => (
              <Anchor key={e} size="sm" onClick={() => submit(e)}>
                “{e}”
              </Anchor>
            ))}
          </Stack>
        </EmptyState>
      </Center>
    );
  } else if (searchError && !result) {
    body = (
      <Alert
        color="red"
        icon={<IconAlertTriangle size={18} />}
        title="Search failed"
        data-testid="search-error"
        style={{ whiteSpace: 'pre-wrap' }}
      >
        {searchError}
      </Alert>
    );
  } else if (!result) {
    body = (
      <Center style={{ flex: 1 }}>
        <Loader type="dots" />
      </Center>
    );
  } else if (result.results.length === 0 && model && filtered) {
    body = (
      <Center style={{ flex: 1 }}>
        <EmptyState
          maw={440}
          icon={<IconSearchOff size={36} stroke={1.4} />}
          withIndicatorBackground
          title="No crops of those cameras and times"
          description="Widen the camera or time filter."
          data-testid="search-filtered-empty"
        />
      </Center>
    );
  } else if (result.results.length === 0 && model) {
    body =
      result.unembedded > 0 ? (
        <EmbedPrompt model={model} datasetId={datasetId} count={result.unembedded} />
      ) : (
        <Center style={{ flex: 1 }}>
          <EmptyState
            maw={440}
            icon={<IconSearchOff size={36} stroke={1.4} />}
            withIndicatorBackground
            title="Nothing to rank"
            description="This dataset has no images."
          />
        </Center>
      );
  } else if (byTrack && result.tracks.length > 0) {
    body = <TrackResults tracks={result.tracks} results={result.results} onOpen={setFrameOf} />;
  } else {
    body = <ResultGrid ref={grid} results={result.results} selectedIndex={selectedIndex} onOpen={openHit} />;
  }
  if (tab !== 'ranking' && model && model.embeddedImages > 0) {
    body =
      tab === 'mti' ? (
        <MtiView
          modelId={model.id}
          datasetId={datasetId}
          query={q}
          draft={draft}
          onAsk={() => submit(draft)}
          searchId={mtiSearchId}
          startNonce={mtiNonce}
          onSearchId={(id) => setParams({ search: id === undefined ? undefined : String(id) }, true)}
          footageFilter={footageFilter}
        />
      ) : (
        <MtiReport modelId={model.id} datasetId={datasetId} />
      );
  }

  return (
    <Stack gap="md" style={{ flex: 1, minHeight: 0 }}>
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Search</Title>
          <Text c="dimmed" size="sm" data-testid="search-summary">
            {tab === 'ranking' && result && result.results.length > 0
              ? `Top ${formatCount(result.results.length)} by similarity · ${Math.round(result.ms)} ms`
              : 'Find people by description'}
          </Text>
        </div>
        <SegmentedControl
          size="xs"
          data={[
            { value: 'ranking', label: 'Ranking' },
            { value: 'mti', label: 'Conversation (MTI)' },
            { value: 'report', label: 'MTI report' },
          ]}
          value={tab}
          onChange={(v) => setParams({ tab: v === 'ranking' ? undefined : v })}
          data-testid="search-tab"
        />
        {result && tab === 'ranking' && (
          <Badge
            variant="light"
            color="gray"
            leftSection={<IconCpu size={12} />}
            data-testid="search-provider"
          >
            text tower on {result.provider}
          </Badge>
        )}
      </Group>
      {tab !== 'report' && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            submit(draft);
          }}
        >
          <Group align="flex-start" gap="sm" wrap="nowrap">
            <Stack gap={4} style={{ flex: 1 }}>
              <TextInput
                aria-label="Describe the person"
                placeholder="e.g. a man in a red t-shirt and black trousers"
                leftSection={<IconSearch size={16} />}
                value={draft}
                onChange={(e) => setDraft(e.currentTarget.value)}
                disabled={modelList.length === 0}
                data-testid="search-input"
                data-autofocus
              />
              <TokenCount tokens={draft ? tokens : null} model={model} />
            </Stack>
            <Select
              aria-label="Model"
              w={230}
              data={modelList.map((m) => ({
                value: String(m.id),
                label: `${m.name} · ${m.contextLength} tok`,
              }))}
              value={modelId ? String(modelId) : null}
              onChange={(v) => setParams({ model: v ?? undefined })}
              allowDeselect={false}
              placeholder="No models"
              data-testid="search-model"
            />
            <Select
              aria-label="Dataset"
              w={200}
              data={[
                { value: '', label: 'All datasets' },
                ...(datasets.data ?? []).map((d) => ({ value: String(d.id), label: d.name })),
              ]}
              value={datasetId ? String(datasetId) : ''}
              onChange={(v) => setParams({ dataset: v || undefined })}
              allowDeselect={false}
              data-testid="search-dataset"
            />
            <Button type="submit" disabled={!model || draft.trim() === ''} data-testid="search-submit">
              {tab === 'mti' ? 'Ask the MLLM' : 'Search'}
            </Button>
          </Group>
        </form>
      )}
      {tab !== 'report' && <FootageFilters filter={footageFilter} />}
      {model && result && result.results.length > 0 && result.unembedded > 0 && (
        <EmbedPrompt model={model} datasetId={datasetId} count={result.unembedded} compact />
      )}
      {searchError && result && (
        <Text c="red" size="sm">
          {searchError}
        </Text>
      )}
      {body}
      <FrameViewer imageId={frameOf} onClose={() => setFrameOf(null)} />
      <ImageDrawer
        imageId={selection?.id ?? null}
        index={selectedIndex}
        total={results?.length ?? 0}
        onClose={close}
        move={move}
      />
    </Stack>
  );
}
