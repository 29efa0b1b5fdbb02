import { Alert, Button, Card, Code, Group, Skeleton, Stack, Table, Text } from '@mantine/core';
import type { VideoToolInfo } from '#shared/footage/types';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../../lib/hooks';
import { footageQueries } from '../../lib/queries';

const SOURCE_LABEL: Record<VideoToolInfo['source'], string> = {
  user: 'chosen on this machine',
  system: "the system's",
  npm: 'shipped with the app (npm)',
};

/** Settings: which FFmpeg and ffprobe footage runs here, and how to choose others (on this machine only). */
export function VideoToolsSettings(): React.JSX.Element {
  const tools = useQuery(footageQueries.videoTools());
  if (!tools.data && !tools.error) return <Skeleton h={90} />;
  if (tools.error) return <Alert color="red">{errorMessage(tools.error)}</Alert>;
  const info = tools.data!;
  const row = (name: string, t: VideoToolInfo | null): React.JSX.Element => (
    <Table.Tr key={name}>
      <Table.Td>{name}</Table.Td>
      <Table.Td>{t ? t.version : '—'}</Table.Td>
      <Table.Td>{t ? SOURCE_LABEL[t.source] : 'none that runs'}</Table.Td>
      <Table.Td>
        <Text size="xs" ff="monospace" style={{ wordBreak: 'break-all' }}>
          {t?.path ?? ''}
        </Text>
      </Table.Td>
    </Table.Tr>
  );
  return (
    <Card padding="md" data-testid="video-tools">
      <Stack gap="sm">
        {info.problem && (
          <Alert color="red" title="Footage cannot decode video">
            {info.problem}
          </Alert>
        )}
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Tool</Table.Th>
              <Table.Th>Version</Table.Th>
              <Table.Th>Where from</Table.Th>
              <Table.Th>Path</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>{[row('ffmpeg', info.ffmpeg), row('ffprobe', info.ffprobe)]}</Table.Tbody>
        </Table>
        <Text size="sm" c="dimmed">
          {info.chosenBy === 'environment'
            ? 'Chosen by CTGI_FFMPEG / CTGI_FFPROBE for this process.'
            : info.chosenBy === 'settings file'
              ? `Chosen in ${info.settingsFile}.`
              : 'None chosen: the app’s own FFmpeg, or the system’s when it is newer.'}{' '}
          To choose others, run on this machine <Code>ctgi video-tools --ffmpeg PATH --ffprobe PATH</Code> (or{' '}
          <Code>--clear</Code>). The app does not take a program path itself: through the server, anyone
          holding its token could then run any program on this machine.
        </Text>
        <Group>
          <Button variant="default" size="xs" onClick={() => void tools.refetch()} loading={tools.isFetching}>
            Check again
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}
