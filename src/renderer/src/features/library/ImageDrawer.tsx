import {
  ActionIcon,
  Alert,
  Badge,
  Box,
  Card,
  CopyButton,
  DataList,
  Drawer,
  Group,
  Kbd,
  Skeleton,
  Stack,
  Text,
  Title,
  Tooltip,
} from '@mantine/core';
import {
  IconAlertTriangle,
  IconCheck,
  IconChevronLeft,
  IconChevronRight,
  IconCopy,
} from '@tabler/icons-react';
import { useEffect } from 'react';
import type { ImageDetail } from '#shared/library/types';
import type { ImageId } from '#shared/ids';
import { imageUrl } from '../../lib/api';
import { formatBytes, formatCount } from '../../lib/format';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../../lib/hooks';
import { libraryQueries } from '../../lib/queries';
import { MtgEvidence } from '../mtg/MtgEvidence';
import classes from './ImageDrawer.module.css';
import { CAPTION_SOURCE_LABEL, CAPTION_STATUS_COLOR } from '../../lib/labels';
import type { DrawerMove } from '../../lib/useGridSelection';

function Captions({ detail }: { detail: ImageDetail }): React.JSX.Element {
  if (detail.captions.length === 0) {
    return (
      <Text c="dimmed" size="sm" data-testid="no-captions">
        No captions yet. Imported annotations and generated captions appear here.
      </Text>
    );
  }
  return (
    <Stack gap="xs" data-testid="captions">
      {detail.captions.map((c) => (
        <Card key={c.id} padding="sm" data-testid="caption">
          <Group gap={6} mb={6}>
            <Badge variant="outline" color="gray" size="sm">
              {CAPTION_SOURCE_LABEL[c.source]}
            </Badge>
            <Badge
              color={CAPTION_STATUS_COLOR[c.status]}
              variant="light"
              size="sm"
              data-testid="caption-status"
            >
              {c.status}
            </Badge>
            {c.version > 1 && (
              <Text size="xs" c="dimmed">
                v{c.version}
              </Text>
            )}
          </Group>
          <Text size="sm" lh={1.55} data-testid="caption-text">
            {c.text}
          </Text>
        </Card>
      ))}
    </Stack>
  );
}

function Metadata({ detail }: { detail: ImageDetail }): React.JSX.Element {
  const item = (label: string, value: React.ReactNode): React.JSX.Element => (
    <DataList.Item>
      <DataList.ItemLabel>{label}</DataList.ItemLabel>
      <DataList.ItemValue>{value}</DataList.ItemValue>
    </DataList.Item>
  );
  return (
    <DataList size="sm" labelWidth={96} withDivider data-testid="image-metadata">
      {item('Dataset', detail.datasetName)}
      {item(
        'Path',
        <Text size="sm" ff="monospace" style={{ wordBreak: 'break-all' }}>
          {detail.relPath}
        </Text>,
      )}
      {item(
        'Identity',
        detail.personId ?? (
          <Text span c="dimmed" size="sm">
            {detail.personKind === 'junk'
              ? 'junk (-1)'
              : detail.personKind === 'distractor'
                ? 'distractor (0000)'
                : 'none'}
          </Text>
        ),
      )}
      {detail.camera !== null && item('Camera', detail.camera)}
      {detail.role !== null && item('Role', detail.role)}
      {detail.sourceGroup !== null && item('Source', detail.sourceGroup)}
      {item(
        'Split',
        detail.split ?? (
          <Text span c="dimmed" size="sm">
            none
          </Text>
        ),
      )}
      {item('Size', `${detail.width} × ${detail.height} px · ${formatBytes(detail.bytes)}`)}
      {item('Format', detail.format.toUpperCase())}
      {item(
        'SHA-256',
        <Group gap={4} wrap="nowrap">
          <Text size="sm" ff="monospace" truncate="end" maw={250} title={detail.sha256}>
            {detail.sha256}
          </Text>
          <CopyButton value={detail.sha256}>
            {({ copied, copy }) => (
              <Tooltip label={copied ? 'Copied' : 'Copy'}>
                <ActionIcon
                  size="sm"
                  variant="subtle"
                  color={copied ? 'teal' : 'gray'}
                  onClick={copy}
                  aria-label="Copy SHA-256"
                >
                  {copied ? <IconCheck size={14} /> : <IconCopy size={14} />}
                </ActionIcon>
              </Tooltip>
            )}
          </CopyButton>
        </Group>,
      )}
    </DataList>
  );
}

export function ImageDrawer({
  imageId,
  index,
  total,
  onClose,
  move,
}: {
  imageId: ImageId | null;
  index: number | null;
  total: number;
  onClose: () => void;
  move: DrawerMove;
}): React.JSX.Element {
  const opened = imageId !== null;
  const image = useQuery({ ...libraryQueries.image(imageId ?? (1 as ImageId)), enabled: opened });
  const { data } = image;
  const error = image.error ? errorMessage(image.error) : null;
  const loading = image.isFetching;
  const detail = opened && data?.id === imageId ? data : undefined;

  useEffect(() => {
    if (!opened) return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement) return;
      const delta = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: 'row-up', ArrowDown: 'row-down' } as const;
      const d = delta[e.key as keyof typeof delta];
      if (d === undefined) return;
      e.preventDefault();
      move.step(d);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [opened, move]);

  return (
    <Drawer
      opened={opened}
      onClose={onClose}
      position="right"
      size={560}
      withOverlay={false}
      trapFocus={false}
      lockScroll={false}
      shadow="xl"
      title={
        <Group gap="sm">
          <Title order={4}>{detail?.personId ? `Person ${detail.personId}` : `Image ${imageId ?? ''}`}</Title>
          {detail?.split && (
            <Badge variant="light" color="gray">
              {detail.split}
            </Badge>
          )}
        </Group>
      }
      data-testid="image-drawer"
    >
      <Stack gap="md">
        <Group justify="space-between">
          <Group gap={4}>
            <ActionIcon
              variant="default"
              aria-label="Previous image"
              onClick={() => move.step(-1)}
              disabled={!index}
            >
              <IconChevronLeft size={16} />
            </ActionIcon>
            <ActionIcon
              variant="default"
              aria-label="Next image"
              onClick={() => move.step(1)}
              disabled={index === null || index >= total - 1}
            >
              <IconChevronRight size={16} />
            </ActionIcon>
            <Text size="sm" c="dimmed" ml={6} data-testid="drawer-position">
              {index === null ? '' : `${formatCount(index + 1)} of ${formatCount(total)}`}
            </Text>
          </Group>
          <Text size="xs" c="dimmed">
            <Kbd size="xs">←</Kbd> <Kbd size="xs">→</Kbd> <Kbd size="xs">↑</Kbd> <Kbd size="xs">↓</Kbd> to
            move · <Kbd size="xs">Esc</Kbd> to close
          </Text>
        </Group>

        <Box className={classes.viewer}>
          {imageId !== null && (
            <img
              key={imageId}
              src={imageUrl(imageId, 'full')}
              alt={detail?.relPath ?? ''}
              data-testid="drawer-image"
            />
          )}
        </Box>

        {error && (
          <Alert color="red" icon={<IconAlertTriangle size={18} />} title="Could not load this image">
            {error}
          </Alert>
        )}
        {!detail && loading && !error && (
          <Stack gap="xs">
            <Skeleton height={14} width="40%" />
            <Skeleton height={60} />
            <Skeleton height={120} />
          </Stack>
        )}
        {detail && (
          <>
            <Box>
              <Text fw={650} size="sm" mb={8} tt="uppercase" c="dimmed" style={{ letterSpacing: '0.04em' }}>
                Captions · {detail.captions.length}
              </Text>
              <Captions detail={detail} />
            </Box>
            <MtgEvidence imageId={detail.id} captions={detail.captions} />
            <Box>
              <Text fw={650} size="sm" mb={8} tt="uppercase" c="dimmed" style={{ letterSpacing: '0.04em' }}>
                Details
              </Text>
              <Metadata detail={detail} />
            </Box>
          </>
        )}
      </Stack>
    </Drawer>
  );
}
