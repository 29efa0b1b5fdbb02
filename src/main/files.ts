// Reading a file the user named (an image, an annotation file) without trusting what it is. A path can
// name a named pipe, whose open() blocks until a writer comes (forever, and it holds one of libuv's four
// file threads while it waits), or a device such as /dev/zero, which never ends. So: open without
// blocking, look at what the descriptor is (fstat on the opened fd, not a stat of the path before it,
// which a swap between the two would defeat), and read only a regular file no larger than the cap.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

// O_NONBLOCK makes opening a FIFO return at once; it changes nothing for a regular file. Windows has
// neither the flag nor FIFOs in the file system.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

export type FileRefusal = 'missing' | 'folder' | 'not-regular' | 'too-large' | 'unreadable';

/** Why a file was not read, in words that finish "<the file> …" ("is a named pipe (FIFO), not a regular file"). */
export class FileReadError extends Error {
  constructor(
    readonly reason: FileRefusal,
    /** The errno code when the system refused (ENOENT, EACCES, …). */
    readonly code: string | null,
    message: string,
  ) {
    super(message);
    this.name = 'FileReadError';
  }
}

const errCode = (err: unknown): string =>
  err instanceof Error && 'code' in err ? String((err as NodeJS.ErrnoException).code) : 'error';

export const formatBytes = (n: number): string =>
  n >= 2 ** 30
    ? `${(n / 2 ** 30).toFixed(1)} GB`
    : n >= 2 ** 20
      ? `${(n / 2 ** 20).toFixed(0)} MB`
      : n >= 1024
        ? `${(n / 1024).toFixed(0)} KB`
        : `${n} bytes`;

function kindOf(st: {
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
}): string {
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a plain file';
}

export interface RegularFile {
  bytes: Buffer;
  /** Modification time of the file that was read (from the same descriptor). */
  mtimeMs: number;
}

/**
 * Reads a whole regular file of at most `maxBytes`. Refuses — with a FileReadError whose message says
 * what the path is — a missing path, a folder, a FIFO, a device or socket, and a file over the cap
 * (before reading any of it: a sparse 600 MB file costs nothing to refuse).
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<RegularFile> {
  let fh;
  try {
    fh = await open(path, OPEN_FLAGS);
  } catch (err) {
    const code = errCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new FileReadError('missing', code, 'does not exist');
    if (code === 'EISDIR') throw new FileReadError('folder', code, 'is a folder, not a file');
    throw new FileReadError('unreadable', code, `cannot be opened (${code})`);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new FileReadError('folder', null, 'is a folder, not a file');
    if (!st.isFile()) throw new FileReadError('not-regular', null, `is ${kindOf(st)}, not a regular file`);
    if (st.size > maxBytes) {
      throw new FileReadError(
        'too-large',
        null,
        `is too large (${formatBytes(st.size)}; the limit is ${formatBytes(maxBytes)})`,
      );
    }
    // Exactly the size fstat gave: a file that grows while we read cannot push us past the cap.
    const bytes = Buffer.allocUnsafe(st.size);
    let filled = 0;
    while (filled < st.size) {
      const { bytesRead } = await fh.read(bytes, filled, st.size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return { bytes: filled === st.size ? bytes : bytes.subarray(0, filled), mtimeMs: st.mtimeMs };
  } catch (err) {
    if (err instanceof FileReadError) throw err;
    const code = errCode(err);
    if (code === 'EISDIR') throw new FileReadError('folder', code, 'is a folder, not a file');
    throw new FileReadError('unreadable', code, `cannot be read (${code})`);
  } finally {
    await fh.close();
  }
}
