import { ROLES } from '#shared/access';
import { AppError } from '../../errors';
import { addUser, listUsers, revokeUser } from '../../team/users';
import { oneOf, stringOption, type Command } from '../command';
import { withWorkspace } from '../workspace';

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The link a new user opens: the token in the fragment, which the browser never sends to any server. */
export const userLink = (base: string, token: string): string =>
  `${base.replace(/\/+$/, '')}/#token=${encodeURIComponent(token)}`;

export const usersCommand: Command = {
  name: 'users',
  summary: 'people on a shared `ctgi serve`: add one (prints their secret link once), revoke, list',
  usage:
    'ctgi users [--list] [--add NAME --role admin|reviewer|annotator [--url URL]] [--revoke NAME] [--json]\n\n' +
    '  --add NAME    a new person with their own secret link, printed once (only its hash is kept)\n' +
    '  --role R      admin (everything), reviewer (the desk, bulk actions, MTG starts) or annotator (the desk)\n' +
    '  --url URL     the address the team opens (e.g. http://gpu-box:8400); the link is built on it\n' +
    '  --revoke NAME their link stops working at their next request; their decisions keep their name\n\n' +
    'The workspace owner (the desktop app, the token `ctgi serve` prints) is always an admin, without a user.',
  options: {
    list: { type: 'boolean' },
    add: { type: 'string' },
    role: { type: 'string' },
    url: { type: 'string' },
    revoke: { type: 'string' },
  },
  run: (values, _positionals, io) =>
    withWorkspace(values, async (ws) => {
      const add = stringOption(values, 'add');
      const revoke = stringOption(values, 'revoke');
      if (add !== undefined) {
        const role = oneOf('role', stringOption(values, 'role'), ROLES);
        if (role === undefined)
          throw new AppError('bad_request', `--add needs --role (one of ${ROLES.join(', ')}).`);
        const { user, token } = addUser(ws.db, add.trim(), role, 'owner (cli)');
        const link = userLink(stringOption(values, 'url') ?? 'http://HOST:PORT', token);
        if (values.json) io.out(JSON.stringify({ user, token, link }, null, 2));
        else {
          io.out(
            `Added ${user.name} (${user.role}). Their secret link — shown this once, send it privately:`,
          );
          io.out(`  ${link}`);
          if (stringOption(values, 'url') === undefined)
            io.out('Put the address of `ctgi serve` (as the team reaches it) in place of HOST:PORT.');
        }
        return 0;
      }
      if (revoke !== undefined) {
        const { revoked } = revokeUser(ws.db, revoke.trim(), 'owner (cli)');
        if (values.json) io.out(JSON.stringify({ revoked }));
        else
          io.out(
            revoked ? `Revoked ${revoke}: their link no longer works.` : `${revoke} was already revoked.`,
          );
        return 0;
      }
      const users = listUsers(ws.db);
      if (values.json) {
        io.out(JSON.stringify(users, null, 2));
        return 0;
      }
      if (users.length === 0) {
        io.out('No users yet: only the owner. Add one with `ctgi users --add NAME --role reviewer`.');
        return 0;
      }
      io.out(`${'name'.padEnd(24)} ${'role'.padEnd(10)} ${'created'.padEnd(10)}  revoked`);
      for (const u of users)
        io.out(
          `${u.name.padEnd(24)} ${u.role.padEnd(10)} ${day(u.createdAt)}  ${u.revokedAt === null ? '' : day(u.revokedAt)}`,
        );
      return 0;
    }),
};
