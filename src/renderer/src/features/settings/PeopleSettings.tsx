// Settings → People (issue 13): who may use this server, with which role; a new person's secret link is
// shown once. Admins only (the desktop app and the owner's server token are admins).
import { Alert, Badge, Button, Code, CopyButton, Group, Select, Table, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { ROLES, type Role } from '#shared/access';
import { invoke } from '../../lib/api';
import { formatTime } from '../../lib/format';
import { useQuery } from '@tanstack/react-query';
import { settingsQueries } from '../../lib/queries';
import { useInvalidate } from '../../lib/serverState';
import { useSession } from '../../lib/session';

const ROLE_HINT: Record<Role, string> = {
  admin: 'everything, people included',
  reviewer: 'the desk, bulk actions, MTG and score starts',
  annotator: 'the review desk and search',
};

export function PeopleSettings(): React.JSX.Element {
  const me = useSession();
  const users = useQuery({ ...settingsQueries.users(), enabled: me?.role === 'admin' });
  const invalidate = useInvalidate();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('annotator');
  const [link, setLink] = useState<{ name: string; url: string } | null>(null);
  if (me?.role !== 'admin')
    return <Text size="sm">Only an admin of this server sees and changes who may use it.</Text>;
  const add = async (): Promise<void> => {
    try {
      const r = await invoke('users:add', { name, role });
      // The fragment never reaches a server: not this one's log, nor a proxy's.
      setLink({ name: r.user.name, url: `${location.origin}/#token=${encodeURIComponent(r.token)}` });
      setName('');
      invalidate('users:list');
    } catch (err) {
      notifications.show({ color: 'red', message: err instanceof Error ? err.message : String(err) });
    }
  };
  const revoke = async (who: string): Promise<void> => {
    try {
      await invoke('users:revoke', { name: who });
      notifications.show({ message: `${who}'s link no longer works.` });
      invalidate('users:list');
    } catch (err) {
      notifications.show({ color: 'red', message: err instanceof Error ? err.message : String(err) });
    }
  };
  return (
    <>
      <Group align="end" gap="xs">
        <TextInput
          label="Name"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          data-testid="people-name"
        />
        <Select
          label="Role"
          data={ROLES.map((r) => ({ value: r, label: `${r} — ${ROLE_HINT[r]}` }))}
          value={role}
          onChange={(v) => v && setRole(v as Role)}
          w={340}
          allowDeselect={false}
          data-testid="people-role"
        />
        <Button onClick={() => void add()} disabled={name.trim() === ''} data-testid="people-add">
          Add person
        </Button>
      </Group>
      {link && (
        <Alert
          color="green"
          title={`${link.name}'s secret link`}
          withCloseButton
          onClose={() => setLink(null)}
        >
          <Text size="sm">Shown this once: send it to them privately. Anyone holding it works as them.</Text>
          <Group gap="xs" mt="xs">
            <Code data-testid="people-link">{link.url}</Code>
            <CopyButton value={link.url}>
              {({ copied, copy }) => (
                <Button size="xs" variant="default" onClick={copy}>
                  {copied ? 'Copied' : 'Copy'}
                </Button>
              )}
            </CopyButton>
          </Group>
        </Alert>
      )}
      <Table data-testid="people-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Role</Table.Th>
            <Table.Th>Added</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(users.data ?? []).map((u) => (
            <Table.Tr key={u.id}>
              <Table.Td>{u.name}</Table.Td>
              <Table.Td>
                <Badge variant="light">{u.role}</Badge>
              </Table.Td>
              <Table.Td>{formatTime(u.createdAt)}</Table.Td>
              <Table.Td>
                {u.revokedAt === null ? (
                  <Button size="xs" color="red" variant="subtle" onClick={() => void revoke(u.name)}>
                    Revoke
                  </Button>
                ) : (
                  <Text size="xs" c="dimmed">
                    revoked {formatTime(u.revokedAt)}
                  </Text>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {users.data?.length === 0 && (
        <Text size="sm" c="dimmed">
          Only you so far. Add the people who review on this server; each gets their own link.
        </Text>
      )}
    </>
  );
}
