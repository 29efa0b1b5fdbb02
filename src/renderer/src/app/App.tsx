import { MantineProvider, Title } from '@mantine/core';

// Placeholder shell — replaced by the AppShell with Library, Review, Search, Jobs, Settings.
export function App(): React.JSX.Element {
  return (
    <MantineProvider defaultColorScheme="auto">
      <Title>CTGI Studio</Title>
    </MantineProvider>
  );
}
