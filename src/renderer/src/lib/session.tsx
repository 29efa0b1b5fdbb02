// Who this page is signed in as (issue 13). The desktop app is the local admin with no login; under
// `ctgi serve` a missing, wrong or revoked token shows the login page (paste your link) instead of the app.
import { Alert, Button, Center, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { createContext, useCallback, useContext, useEffect, useState } from 'react';
import type { Caller } from '#shared/team/types';
import { ApiCallError, invoke, signIn, tokenFromLink } from './api';

const SessionContext = createContext<Caller | null>(null);

/** The signed-in caller; null only outside the gate (never inside the app). */
export const useSession = (): Caller | null => useContext(SessionContext);

function LoginPage({ reason, onSignedIn }: { reason: string; onSignedIn: () => void }): React.JSX.Element {
  const [link, setLink] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = (): void => {
    const token = tokenFromLink(link);
    if (token === null) {
      setError('That is not a CTGI Studio link: it should end in #token=… (or ?token=…).');
      return;
    }
    signIn(token);
    onSignedIn();
  };
  return (
    <Center h="100vh">
      <Paper withBorder p="xl" w={520} data-testid="login-page">
        <Stack>
          <Title order={3}>Sign in to CTGI Studio</Title>
          <Text size="sm" c="dimmed">
            This server needs your personal link. Paste the link an admin sent you (from Settings → People or{' '}
            <code>ctgi users --add</code>), or open it directly. The owner uses the URL that{' '}
            <code>ctgi serve</code> printed.
          </Text>
          <Alert color="yellow" data-testid="login-reason">
            {reason}
          </Alert>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              submit();
            }}
          >
            <Stack gap="xs">
              <TextInput
                label="Your link"
                placeholder="http://…/#token=…"
                value={link}
                onChange={(e) => setLink(e.currentTarget.value)}
                error={error}
                data-testid="login-link"
                autoFocus
              />
              <Button type="submit" data-testid="login-submit">
                Sign in
              </Button>
            </Stack>
          </form>
        </Stack>
      </Paper>
    </Center>
  );
}

/** Asks who we are before the app renders; a refused token shows the login page instead. */
export function SessionGate({ children }: { children: React.ReactNode }): React.JSX.Element | null {
  const [state, setState] = useState<
    { kind: 'loading' } | { kind: 'in'; caller: Caller } | { kind: 'out'; reason: string }
  >({ kind: 'loading' });
  const check = useCallback(() => {
    invoke('session:whoami', {}).then(
      (caller) => setState({ kind: 'in', caller }),
      (err: unknown) => {
        if (err instanceof ApiCallError && err.error.code === 'unauthorized')
          setState({ kind: 'out', reason: err.error.message });
        // Another failure (the server restarting…): the app's own views say so; the owner is the default.
        else setState({ kind: 'in', caller: { kind: 'owner', name: 'owner', role: 'admin' } });
      },
    );
  }, []);
  useEffect(check, [check]);
  if (state.kind === 'loading') return null;
  if (state.kind === 'out') return <LoginPage reason={state.reason} onSignedIn={check} />;
  return <SessionContext.Provider value={state.caller}>{children}</SessionContext.Provider>;
}
