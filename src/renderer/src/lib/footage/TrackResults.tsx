// Search results grouped by track: one card per walk past one camera, in the order of its best hit,
// with camera, time span and the crops of it that matched. Opening one shows its best crop's frame.
// The plain ranking and MTI's re-ranking both show their footage hits this way.
import { Badge, Card, Group, ScrollArea, SimpleGrid, Text } from '@mantine/core';
import type { TrackHitGroup } from '#shared/search/types';
import type { ImageId } from '#shared/ids';
import { imageUrl } from '../api';
import { formatClock } from './format';

export function TrackResults({
  tracks,
  results,
  onOpen,
}: {
  tracks: readonly TrackHitGroup[];
  /** The ranked results the groups' `ranks` point into. */
  results: readonly { rank: number; image: { id: ImageId } }[];
  onOpen: (imageId: ImageId) => void;
}): React.JSX.Element {
  const byRank = new Map(results.map((r) => [r.rank, r]));
  return (
    <ScrollArea style={{ flex: 1 }} data-testid="track-results">
      <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }} spacing="sm">
        {tracks.map((t) => {
          const hits = t.ranks.flatMap((r) => byRank.get(r) ?? []);
          return (
            <Card
              key={t.trackId}
              withBorder
              padding="sm"
              style={{ cursor: 'pointer' }}
              onClick={() => hits[0] && onOpen(hits[0].image.id)}
              data-testid="track-card"
              data-track-id={t.trackId}
              data-camera={t.camera}
            >
              <Group justify="space-between" mb={6}>
                <Group gap={6}>
                  <Badge size="sm" variant="filled" color="gray">
                    #{t.rank}
                  </Badge>
                  <Badge size="sm" variant="light" data-testid="track-camera">
                    {t.camera}
                  </Badge>
                </Group>
                <Text size="xs" c="dimmed" style={{ fontVariantNumeric: 'tabular-nums' }}>
                  {t.score.toFixed(3)}
                </Text>
              </Group>
              <Text size="sm" data-testid="track-time" style={{ fontVariantNumeric: 'tabular-nums' }}>
                {formatClock(t.firstMs, t.firstTime)} – {formatClock(t.lastMs, t.lastTime).slice(-8)}
              </Text>
              <Group gap={4} mt={6} wrap="nowrap" style={{ overflow: 'hidden', height: 96 }}>
                {hits.slice(0, 6).map((h) => (
                  <img
                    key={h.image.id}
                    src={imageUrl(h.image.id, 'thumb')}
                    alt={`Rank ${h.rank}`}
                    loading="lazy"
                    style={{ height: 96, width: 'auto', flex: '0 0 auto', borderRadius: 4 }}
                  />
                ))}
              </Group>
              <Text size="xs" c="dimmed" mt={4}>
                {hits.length} matching crop{hits.length === 1 ? '' : 's'} of this track
              </Text>
            </Card>
          );
        })}
      </SimpleGrid>
    </ScrollArea>
  );
}
