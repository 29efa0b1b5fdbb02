// The Footage view: folders of recordings with their cameras on a timeline (each recording a bar, the
// processed part filled), tracks per camera (opening one shows its frame), and a form that starts a
// footage job, with a camera-pattern editor that previews what it reads from the folder's file names.
import {
  Alert,
  Button,
  Code,
  Card,
  Group,
  NumberInput,
  ScrollArea,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  Tooltip,
} from '@mantine/core';
import { IconMovie, IconPlayerPlay } from '@tabler/icons-react';
import { useState } from 'react';
import type { FootageFolder, PatternPreview } from '#shared/footage/types';
import type { ImageId } from '#shared/ids';
import { routeHref } from '../../app/router';
import { imageUrl, invoke } from '../../lib/api';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../../lib/hooks';
import { footageQueries } from '../../lib/queries';
import { useInvalidate } from '../../lib/serverState';
import { FrameViewer } from '../../lib/footage/FrameViewer';
import { formatClock, formatSpan } from '../../lib/footage/format';

const EXAMPLE_PATTERN = '{camera}_{date:YYYYMMDD}_{time:HHmmss}';

function usePatternPreview(folder: string, pattern: string): PatternPreview | null {
  // Debounced as one string: a new object on every render would restart the wait for ever.
  const key = JSON.stringify([folder, pattern]);
  const [askedKey] = useDebouncedValue(key, 200);
  const [askedFolder, askedPattern] = JSON.parse(askedKey) as [string, string];
  const preview = useQuery({
    ...footageQueries.patternPreview(askedFolder, askedPattern),
    enabled: askedFolder.trim() !== '',
  });
  // Only the preview of what the boxes hold now: none while typing, nor an older answer kept on screen.
  const current = askedKey === key && !preview.isPlaceholderData;
  return current && folder.trim() !== '' ? (preview.data ?? null) : null;
}

function StartForm({ onStarted }: { onStarted: () => void }): React.JSX.Element {
  const detectors = useQuery(footageQueries.detectors());
  const [folder, setFolder] = useState('');
  const [pattern, setPattern] = useState('');
  const [detector, setDetector] = useState<string | null>(null);
  const [fps, setFps] = useState<number | string>(2);
  const [perTrack, setPerTrack] = useState<string>('3');
  const [error, setError] = useState<string | null>(null);
  const [started, setStarted] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const preview = usePatternPreview(folder, pattern);
  const list = detectors.data ?? [];
  const chosen = detector ?? (list[0] ? String(list[0].id) : null);

  const start = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      const r = await invoke('footage:start', {
        folder,
        detector: Number(chosen),
        fps: Number(fps) || 2,
        cropsPerTrack: perTrack === 'all' ? 'all' : Number(perTrack),
        ...(pattern.trim() ? { cameraPattern: pattern.trim() } : {}),
      });
      setStarted(`${r.resumed ? 'Resumed' : 'Started'} footage job #${r.job.id}`);
      onStarted();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card withBorder padding="md" data-testid="footage-start">
      <Stack gap="sm">
        <Text fw={600}>Process a folder of recordings</Text>
        <Group align="flex-end" gap="sm">
          <TextInput
            label="Folder"
            placeholder="/archive/site-a (one sub-folder per camera, or a camera pattern)"
            value={folder}
            onChange={(e) => setFolder(e.currentTarget.value)}
            style={{ flex: 2 }}
            data-testid="footage-folder"
          />
          <Select
            label="Person detector"
            data={list.map((d) => ({ value: String(d.id), label: `${d.name} (${d.contract})` }))}
            value={chosen}
            onChange={setDetector}
            placeholder="No detector registered"
            w={260}
            data-testid="footage-detector"
          />
          <NumberInput
            label="Frames / s"
            value={fps}
            onChange={setFps}
            min={0.1}
            max={30}
            step={0.5}
            w={110}
          />
          <Select
            label="Crops per track"
            data={[
              { value: '1', label: 'best 1' },
              { value: '3', label: 'best 3' },
              { value: '5', label: 'best 5' },
              { value: 'all', label: 'every sample' },
            ]}
            value={perTrack}
            onChange={(v) => setPerTrack(v ?? '3')}
            allowDeselect={false}
            w={140}
            data-testid="footage-crops-per-track"
          />
        </Group>
        {detectors.data && list.length === 0 && (
          <Alert color="yellow" variant="light" p="xs">
            Register a person detector first: <code>ctgi detectors --register DIR</code> (an ONNX
            YOLOv8/YOLO11, YOLOX or RT-DETR export with ctgi-detector.json;{' '}
            <code>ctgi synth --footage DIR</code> writes a toy one).
          </Alert>
        )}
        <TextInput
          label="Camera pattern (optional)"
          description={`Reads the camera and start time from file names, e.g. ${EXAMPLE_PATTERN}; fields {camera} {date:…} {time:…} {datetime:…} {epoch} {any}. Empty: each folder is a camera.`}
          placeholder={EXAMPLE_PATTERN}
          value={pattern}
          onChange={(e) => setPattern(e.currentTarget.value)}
          data-testid="footage-pattern"
        />
        {preview && pattern.trim() !== '' && (
          <div data-testid="pattern-preview">
            {preview.problems ? (
              <Alert
                color="red"
                variant="light"
                p="xs"
                style={{ whiteSpace: 'pre-wrap' }}
                data-testid="pattern-problems"
              >
                {preview.problems}
              </Alert>
            ) : (
              <Table striped withTableBorder fz="xs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>File ({preview.files} found)</Table.Th>
                    <Table.Th>Camera</Table.Th>
                    <Table.Th>Start (camera clock)</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {preview.rows.map((r) => (
                    <Table.Tr key={r.file} data-testid="pattern-row" data-ok={r.ok}>
                      <Table.Td>{r.file}</Table.Td>
                      {r.ok ? (
                        <>
                          <Table.Td data-testid="pattern-camera">{r.camera ?? '(its folder)'}</Table.Td>
                          <Table.Td>{r.localStart ?? '(from the container)'}</Table.Td>
                        </>
                      ) : (
                        <Table.Td colSpan={2} c="red">
                          {r.reason}
                        </Table.Td>
                      )}
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
          </div>
        )}
        <Group>
          <Button
            leftSection={<IconPlayerPlay size={16} />}
            onClick={() => void start()}
            loading={busy}
            disabled={folder.trim() === '' || chosen === null || Boolean(preview?.problems)}
            data-testid="footage-run"
          >
            Start
          </Button>
          {started && (
            <Text size="sm" data-testid="footage-started">
              {started} · <a href={routeHref('jobs')}>Jobs</a>
            </Text>
          )}
          {error && (
            <Text size="sm" c="red" style={{ whiteSpace: 'pre-wrap' }} data-testid="footage-start-error">
              {error}
            </Text>
          )}
        </Group>
      </Stack>
    </Card>
  );
}

function Timeline({
  folder,
  selected,
  onSelect,
}: {
  folder: FootageFolder;
  selected: number | null;
  onSelect: (cameraId: number) => void;
}): React.JSX.Element {
  const clocked = folder.videos.filter((v) => v.startMs !== null);
  const from = Math.min(...clocked.map((v) => v.startMs!));
  const to = Math.max(...clocked.map((v) => v.startMs! + (v.durationSeconds ?? 0) * 1000));
  const span = Math.max(1, to - from);
  return (
    <Stack gap={6} data-testid="footage-timeline">
      {clocked.length > 0 && (
        <Group justify="space-between">
          <Text size="xs" c="dimmed">
            {formatClock(from, 0)}
          </Text>
          <Text size="xs" c="dimmed">
            {formatClock(to, 0)}
          </Text>
        </Group>
      )}
      {folder.cameras.map((c) => {
        const videos = folder.videos.filter((v) => v.cameraId === c.id);
        return (
          <Group
            key={c.id}
            gap="sm"
            wrap="nowrap"
            onClick={() => onSelect(c.id)}
            style={{ cursor: 'pointer' }}
            data-testid="camera-row"
            data-camera={c.name}
          >
            <Text size="sm" w={120} fw={selected === c.id ? 700 : 400} truncate>
              {c.name}
            </Text>
            <div
              style={{
                position: 'relative',
                flex: 1,
                height: 18,
                background: 'var(--mantine-color-default-hover)',
                borderRadius: 4,
              }}
            >
              {videos.map((v) => {
                if (v.startMs === null) return null;
                const left = (100 * (v.startMs - from)) / span;
                const width = Math.max(0.5, (100 * (v.durationSeconds ?? 0) * 1000) / span);
                const done = v.durationSeconds ? Math.min(1, v.processedSeconds / v.durationSeconds) : 0;
                return (
                  <Tooltip
                    key={v.id}
                    label={`${v.relPath}: ${formatSpan(v.durationSeconds ?? 0)}, ${Math.round(100 * done)} % processed, ${v.tracks} tracks${v.error ? ` — ${v.error}` : ''}`}
                    multiline
                    w={360}
                  >
                    <div
                      data-testid="recording-bar"
                      data-status={v.status}
                      data-processed={done.toFixed(2)}
                      style={{
                        position: 'absolute',
                        left: `${left}%`,
                        width: `${width}%`,
                        top: 2,
                        bottom: 2,
                        borderRadius: 3,
                        background:
                          v.status === 'failed'
                            ? 'var(--mantine-color-red-3)'
                            : 'var(--mantine-color-blue-2)',
                        overflow: 'hidden',
                      }}
                    >
                      <div
                        style={{
                          width: `${100 * done}%`,
                          height: '100%',
                          background: 'var(--mantine-color-blue-6)',
                        }}
                      />
                    </div>
                  </Tooltip>
                );
              })}
            </div>
            <Text size="xs" c="dimmed" w={210} data-testid="camera-stats">
              {c.videos} rec · {formatSpan(c.processedSeconds)}/{formatSpan(c.seconds)} · {c.tracks} tracks
            </Text>
          </Group>
        );
      })}
      {folder.videos.some((v) => v.startMs === null && v.status !== 'failed') && (
        <Text size="xs" c="dimmed">
          Recordings without a clock time are not on the timeline; a camera pattern can read it from their
          names.
        </Text>
      )}
    </Stack>
  );
}

function CameraTracks({
  folderId,
  cameraId,
  onOpen,
}: {
  folderId: number;
  cameraId: number;
  onOpen: (id: ImageId) => void;
}): React.JSX.Element {
  const tracks = useQuery(footageQueries.tracks({ folderId, cameraId, limit: 200 }));
  return (
    <ScrollArea h={220} data-testid="camera-tracks">
      <Group gap="xs" wrap="wrap">
        {(tracks.data ?? []).map((t) => (
          <Card
            key={t.id}
            withBorder
            padding={4}
            w={120}
            style={{ cursor: t.crops.length ? 'pointer' : 'default' }}
            onClick={() => t.crops[0] && onOpen(t.crops[0])}
            data-testid="track-item"
          >
            {t.crops[0] && (
              <img
                src={imageUrl(t.crops[0], 'thumb')}
                alt={`Track ${t.id}`}
                style={{ height: 120, width: '100%', objectFit: 'contain' }}
              />
            )}
            <Text size="xs" ta="center">
              {formatClock(t.firstMs, t.firstTime).slice(-8)} · {(t.lastTime - t.firstTime).toFixed(0)} s
            </Text>
          </Card>
        ))}
        {tracks.data?.length === 0 && (
          <Text size="sm" c="dimmed">
            No tracks on this camera yet.
          </Text>
        )}
      </Group>
    </ScrollArea>
  );
}

export function FootageView(): React.JSX.Element {
  // Coverage and tracks grow while a footage job runs (lib/queries.ts).
  const folders = useQuery(footageQueries.folders());
  const invalidate = useInvalidate();
  const [camera, setCamera] = useState<{ folderId: number; cameraId: number } | null>(null);
  const [frameOf, setFrameOf] = useState<ImageId | null>(null);
  return (
    <Stack gap="md" style={{ flex: 1, minHeight: 0 }}>
      <div>
        <Title order={2}>Footage</Title>
        <Text c="dimmed" size="sm">
          Recordings per camera: people detected, tracked and kept as crops with camera and time
        </Text>
      </div>
      <ScrollArea style={{ flex: 1 }}>
        <Stack gap="md">
          <StartForm onStarted={() => invalidate('footage:list')} />
          {folders.error && <Alert color="red">{errorMessage(folders.error)}</Alert>}
          {(folders.data ?? []).map((f) => (
            <Card key={f.id} withBorder padding="md" data-testid="footage-folder-card">
              <Group justify="space-between" mb="sm">
                <Group gap="xs">
                  <IconMovie size={18} />
                  <Text fw={600}>{f.root}</Text>
                  {f.pattern && <Code>{f.pattern}</Code>}
                </Group>
                <Button
                  size="xs"
                  variant="light"
                  component="a"
                  href={routeHref('search', { dataset: String(f.datasetId) })}
                >
                  Search these crops
                </Button>
              </Group>
              <Timeline
                folder={f}
                selected={camera?.folderId === f.id ? camera.cameraId : null}
                onSelect={(cameraId) => setCamera({ folderId: f.id, cameraId })}
              />
              {camera?.folderId === f.id && (
                <Stack gap={4} mt="sm">
                  <Text size="sm" fw={600}>
                    Tracks of {f.cameras.find((c) => c.id === camera.cameraId)?.name}
                  </Text>
                  <CameraTracks folderId={f.id} cameraId={camera.cameraId} onOpen={setFrameOf} />
                </Stack>
              )}
            </Card>
          ))}
          {folders.data?.length === 0 && (
            <Text c="dimmed" size="sm" data-testid="footage-empty">
              No footage yet. Point the form above at a folder of recordings (mp4, mkv, avi, mov, ts…).
            </Text>
          )}
        </Stack>
      </ScrollArea>
      <FrameViewer imageId={frameOf} onClose={() => setFrameOf(null)} />
    </Stack>
  );
}
