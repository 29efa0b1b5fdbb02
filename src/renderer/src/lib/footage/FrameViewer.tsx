// A footage crop opened on its whole frame: the frame (the media route's `frame` variant, cut by FFmpeg at
// the crop's exact time) with the detection's box drawn over it, its camera and time, and the other crops
// of its track to step through (← →).
import { ActionIcon, Badge, Group, Loader, Modal, Stack, Text } from '@mantine/core';
import { IconChevronLeft, IconChevronRight } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import type { ImageId } from '#shared/ids';
import { imageUrl } from '../api';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../hooks';
import { footageQueries } from '../queries';
import { formatClock } from './format';

export function FrameViewer({
  imageId,
  onClose,
}: {
  imageId: ImageId | null;
  onClose: () => void;
}): React.JSX.Element {
  const [current, setCurrent] = useState<ImageId | null>(imageId);
  const [openedFor, setOpenedFor] = useState<ImageId | null>(imageId);
  if (openedFor !== imageId) {
    setOpenedFor(imageId);
    setCurrent(imageId);
  }
  const origin = useQuery({
    ...footageQueries.origin((current ?? 1) as ImageId),
    enabled: current !== null,
  });
  const data = origin.data && origin.data.origin.imageId === current ? origin.data : undefined;
  const index = data ? data.track.findIndex((t) => t.imageId === current) : -1;
  const step = (d: number): void => {
    const next = data?.track[index + d];
    if (next) setCurrent(next.imageId);
  };
  const [loaded, setLoaded] = useState<ImageId | null>(null);

  useEffect(() => {
    if (current === null) return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'ArrowRight') step(1);
      else if (e.key === 'ArrowLeft') step(-1);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const o = data?.origin;
  return (
    <Modal
      opened={imageId !== null}
      onClose={onClose}
      size="80rem"
      title={
        o ? (
          <Group gap="xs">
            <Badge variant="light" data-testid="frame-camera">
              {o.camera}
            </Badge>
            <Text size="sm" data-testid="frame-time" style={{ fontVariantNumeric: 'tabular-nums' }}>
              {formatClock(o.timeMs, o.frameTime)}
            </Text>
            <Text size="sm" c="dimmed">
              track {o.trackId} · score {o.score.toFixed(2)}
            </Text>
          </Group>
        ) : (
          'Frame'
        )
      }
      data-testid="frame-viewer"
    >
      {origin.error && (
        <Text c="red" size="sm">
          {errorMessage(origin.error)}
        </Text>
      )}
      {o && current !== null ? (
        <Stack gap="sm">
          <div style={{ position: 'relative', lineHeight: 0 }}>
            <img
              key={current}
              src={imageUrl(current, 'frame')}
              alt={`Frame of ${o.camera} at ${formatClock(o.timeMs, o.frameTime)}`}
              style={{ width: '100%', height: 'auto', display: 'block' }}
              onLoad={() => setLoaded(current)}
              data-testid="frame-image"
            />
            {o.frameWidth && o.frameHeight && (
              <svg
                viewBox={`0 0 ${o.frameWidth} ${o.frameHeight}`}
                preserveAspectRatio="none"
                style={{
                  position: 'absolute',
                  inset: 0,
                  width: '100%',
                  height: '100%',
                  pointerEvents: 'none',
                }}
              >
                <rect
                  x={o.box[0]}
                  y={o.box[1]}
                  width={o.box[2] - o.box[0]}
                  height={o.box[3] - o.box[1]}
                  fill="none"
                  stroke="#ffd43b"
                  strokeWidth={Math.max(2, o.frameWidth / 400)}
                  data-testid="frame-box"
                  data-box={o.box.map((v) => v.toFixed(1)).join(',')}
                />
              </svg>
            )}
            {loaded !== current && <Loader size="sm" style={{ position: 'absolute', top: 8, right: 8 }} />}
          </div>
          <Group justify="space-between">
            <ActionIcon
              variant="light"
              aria-label="Earlier in this track"
              disabled={index <= 0}
              onClick={() => step(-1)}
              data-testid="frame-prev"
            >
              <IconChevronLeft size={18} />
            </ActionIcon>
            <Text size="sm" c="dimmed" data-testid="frame-position">
              crop {index + 1} of {data.track.length} in this track · {o.videoPath.split(/[/\\]/).at(-1)} at{' '}
              {o.frameTime.toFixed(2)} s
            </Text>
            <ActionIcon
              variant="light"
              aria-label="Later in this track"
              disabled={index >= data.track.length - 1}
              onClick={() => step(1)}
              data-testid="frame-next"
            >
              <IconChevronRight size={18} />
            </ActionIcon>
          </Group>
        </Stack>
      ) : (
        !origin.error && <Loader type="dots" />
      )}
    </Modal>
  );
}
