// A workspace created on a disk that is full says so in one line (no stack trace) and leaves no half-made
// file behind. Two real ways to run out of room, both in a child process so nothing else is affected: a
// 64 KB tmpfs mounted in a private mount namespace (needs root, as CI and this machine have), and a file
// size limit (`ulimit -f`, any user), which SQLite meets as a failed write.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CTGI = join(ROOT, 'bin', 'ctgi.mjs');

const canMount =
  process.platform === 'linux' &&
  process.getuid?.() === 0 &&
  spawnSync('unshare', ['-m', 'true']).status === 0;

function sh(
  script: string,
  env: Record<string, string>,
): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync('bash', ['-c', script], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** The CLI's own lines (npm may print its config warnings on stderr too). */
const ownLines = (stderr: string): string[] =>
  stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('npm warn'));

describe('creating a workspace on a full disk', { timeout: 180_000 }, () => {
  it.skipIf(!canMount)('a full file system: one line saying the disk is full, no file left', () => {
    const mnt = mkdtempSync(join(tmpdir(), 'ctgi-full-'));
    // The mount lives in a mount namespace of its own: it goes away with the child, whatever happens.
    const r = sh(
      'unshare -m bash -c \'mount -t tmpfs -o size=64k tmpfs "$MNT" && node "$CTGI" stats -w "$MNT/ws.sqlite"; rc=$?; ls -A "$MNT" >&2; exit $rc\'',
      { MNT: mnt, CTGI },
    );
    const lines = ownLines(r.stderr);
    expect(r.status).toBe(2);
    expect(lines[0]).toMatch(
      /^ctgi stats: Cannot create the workspace .*ws\.sqlite: the disk is full \(SQLITE_FULL\)\. Free some space on that disk, or choose a workspace elsewhere/,
    );
    expect(r.stderr).not.toMatch(/^\s+at /m);
    // The listing of the tmpfs after the attempt: nothing (the half-made workspace was removed).
    expect(lines.slice(1)).toEqual([]);
  });

  it('a file size limit: one line, no stack trace, no file left', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctgi-ulimit-'));
    const r = sh('ulimit -f 8; node "$CTGI" stats -w "$DIR/ws.sqlite"', { DIR: dir, CTGI });
    const lines = ownLines(r.stderr);
    expect(r.status).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^ctgi stats: Cannot create the workspace .*ws\.sqlite: the disk refused a read or write \(SQLITE_IOERR/,
    );
    expect(existsSync(join(dir, 'ws.sqlite'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});
