// This machine's CTGI settings folder. Machine settings (key files, which FFmpeg to run) live here, never
// in a workspace: a workspace is a file that people copy and share between machines.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** `$CTGI_CONFIG_DIR`, else `$XDG_CONFIG_HOME/ctgi` (`~/.config/ctgi`). */
export function configFolder(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CTGI_CONFIG_DIR) return resolve(env.CTGI_CONFIG_DIR);
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'ctgi');
}
