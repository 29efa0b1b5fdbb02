import { Center, EmptyState } from '@mantine/core';

/** A view whose feature is not built yet: says what will appear there, so the space is not a mystery. */
export function ComingSoon({
  icon,
  title,
  description,
}: {
  icon: React.ReactNode;
  title: string;
  description: string;
}): React.JSX.Element {
  return (
    <Center style={{ flex: 1 }}>
      <EmptyState maw={520} size="lg" variant="light" icon={icon} title={title} description={description} />
    </Center>
  );
}
