import '@mantine/notifications/styles.css';
import { MantineProvider } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { ServerStateProvider } from '../lib/serverState';
import { SessionGate } from '../lib/session';
import { Shell } from './Shell';
import { theme } from './theme';

export function App(): React.JSX.Element {
  return (
    <MantineProvider theme={theme} defaultColorScheme="auto">
      <Notifications position="bottom-right" limit={4} />
      <SessionGate>
        <ServerStateProvider>
          <Shell />
        </ServerStateProvider>
      </SessionGate>
    </MantineProvider>
  );
}
