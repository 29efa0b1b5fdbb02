import { Group, Skeleton, Text, Tooltip } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { formatCount } from '../lib/format';
import { libraryQueries } from '../lib/queries';

function Stat({ label, value, testId }: { label: string; value: number; testId: string }): React.JSX.Element {
  return (
    <Group gap={6} wrap="nowrap">
      <Text size="sm" fw={650} data-testid={testId} style={{ fontVariantNumeric: 'tabular-nums' }}>
        {formatCount(value)}
      </Text>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
    </Group>
  );
}

/** Workspace totals, kept current while imports run. */
export function HeaderStats(): React.JSX.Element | null {
  // Kept current by the server's events (lib/queries.ts: library changes, a running import).
  const { data, error } = useQuery(libraryQueries.stats());
  if (error) return null;
  if (!data) return <Skeleton height={18} width={260} visibleFrom="md" />;
  const captions = Object.values(data.captions).reduce((a, b) => a + b, 0);
  return (
    <Tooltip
      label={`${formatCount(data.datasets)} datasets · ${formatCount(data.captions.accepted)} accepted, ${formatCount(data.captions.pending)} pending captions`}
    >
      <Group gap="lg" wrap="nowrap" visibleFrom="md" data-testid="header-stats">
        <Stat label="images" value={data.images} testId="stat-images" />
        <Stat label="identities" value={data.identities} testId="stat-identities" />
        <Stat label="captions" value={captions} testId="stat-captions" />
      </Group>
    </Tooltip>
  );
}
