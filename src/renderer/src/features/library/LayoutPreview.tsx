import { Badge, Group, List, Paper, SimpleGrid, Stack, Text } from '@mantine/core';
import type { LayoutDetection } from '#shared/library/types';
import { LAYOUT_LABEL } from '../../lib/labels';

const n = (x: number): string => x.toLocaleString('en-US');

function Figure({
  label,
  value,
  testId,
}: {
  label: string;
  value: string;
  testId: string;
}): React.JSX.Element {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="sm" fw={600} data-testid={testId}>
        {value}
      </Text>
    </Stack>
  );
}

/** What the folder import will take in, as detected (or forced) before it starts. */
export function LayoutPreview({ detection }: { detection: LayoutDetection }): React.JSX.Element {
  const { detected, layout, evidence, preview: p } = detection;
  const title = layout === null ? LAYOUT_LABEL.plain : LAYOUT_LABEL[layout];
  return (
    <Paper withBorder p="sm" radius="md" data-testid="import-detection" data-layout={layout ?? 'plain'}>
      <Stack gap="xs">
        <Group gap="xs">
          <Text fw={650} data-testid="detect-layout">
            {title}
          </Text>
          <Badge
            size="sm"
            variant="light"
            color={layout !== null && layout === detected ? 'teal' : 'gray'}
            data-testid="detect-how"
          >
            {layout === detected ? (layout === null ? 'no re-ID layout found' : 'detected') : 'as chosen'}
          </Badge>
        </Group>
        <List size="xs" c="dimmed" data-testid="detect-evidence">
          {evidence.map((e) => (
            <List.Item key={e}>{e}</List.Item>
          ))}
        </List>
        {p && (
          <SimpleGrid cols={4} spacing="xs" verticalSpacing={4}>
            <Figure
              label={p.complete ? 'Images' : 'Images (at least)'}
              value={n(p.images)}
              testId="detect-images"
            />
            <Figure
              label="Train · query · gallery"
              value={`${n(p.byRole.train)} · ${n(p.byRole.query)} · ${n(p.byRole.gallery)}`}
              testId="detect-roles"
            />
            <Figure label="Persons" value={n(p.persons)} testId="detect-persons" />
            <Figure label="Cameras" value={n(p.cameras.length)} testId="detect-cameras" />
            <Figure label="Junk (-1)" value={n(p.junk)} testId="detect-junk" />
            <Figure label="Distractors (0000)" value={n(p.distractors)} testId="detect-distractors" />
            <Figure label="Source groups" value={n(p.sourceGroups)} testId="detect-groups" />
            <Figure label="Left out (other folders)" value={n(p.skipped)} testId="detect-skipped" />
          </SimpleGrid>
        )}
        {p && (p.junk > 0 || p.distractors > 0) && (
          <Text size="xs" c="dimmed">
            Junk and distractors are imported as such: no person, left out of evaluation and export.
          </Text>
        )}
      </Stack>
    </Paper>
  );
}
