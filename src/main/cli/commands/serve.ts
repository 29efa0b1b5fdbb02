import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { AppError } from '../../errors';
import { isLoopbackHost, MAX_STREAMS_PER_CLIENT, startHttpServer } from '../../api/http';
import { MEDIA_URL_STEP_S } from '#shared/media-url';
import { unavailableKeyStore } from '../../llm/keys';
import { defaultWorkspaceFile, openWorkspace } from '../../workspace';
import { intOption, stringOption, type Command, type CliIo } from '../command';

/** `out/renderer` of this checkout: what `npm run build` (electron-vite build) writes. */
export const RENDERER_DIR = resolve(import.meta.dirname, '../../../../out/renderer');

/** The web interface to serve: `$CTGI_RENDERER_DIR` (another build; `npm run audit:server` plants links in one), else RENDERER_DIR. */
export const rendererDir = (env: NodeJS.ProcessEnv = process.env): string =>
  env.CTGI_RENDERER_DIR ? resolve(env.CTGI_RENDERER_DIR) : RENDERER_DIR;

/**
 * Resolves on the first SIGINT/SIGTERM/SIGHUP (a closed terminal stops the server cleanly too); a second
 * one means "stop now", without waiting for jobs. Listening starts before the demo set-up, so a Ctrl+C
 * during it still closes the workspace cleanly.
 */
function untilSignal(io: CliIo): { stopped: Promise<NodeJS.Signals>; dispose(): void } {
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const dispose = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  };
  const stopped = new Promise<NodeJS.Signals>((done) => {
    onSignal = (signal) => {
      dispose();
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      process.once('SIGHUP', () => process.exit(129));
      io.err(`Stopping (${signal}): running jobs pause and resume at the next start…`);
      done(signal);
    };
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  return { stopped, dispose };
}

/** Addresses other machines can use when the server listens on every interface. */
function lanAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => !a.internal && a.family === 'IPv4')
    .map((a) => a.address);
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the app to a browser over HTTP (token-protected, loopback by default)',
  usage:
    'ctgi serve [--workspace FILE] [--port P] [--host H] [--demo] [--json]\n\n' +
    '  --port P     port to listen on (default: any free port)\n' +
    '  --host H     address to bind (default 127.0.0.1); 0.0.0.0 exposes it to the network, guarded by the token only\n' +
    '  --demo       if the workspace is empty, generate a synthetic dataset and import it first\n' +
    '  --json       print one line {"url","token","port"} once listening (for scripts and tests)\n\n' +
    'Open the printed URL: it carries the access token, which the page keeps for its tab (sessionStorage;\n' +
    'a new tab of the app borrows it from an open one) and sends in a header on every call. No cookie holds\n' +
    `it, images go by signed links that expire within ${(2 * MEDIA_URL_STEP_S) / 60} minutes, and calls from another site or port\n` +
    'are refused. Scripts send the token in the x-ctgi-token header. At most ' +
    `${MAX_STREAMS_PER_CLIENT} live-update streams per\n` +
    'token (one per open tab). $CTGI_RENDERER_DIR serves another build of the web interface. Ctrl+C stops;\n' +
    'running jobs resume at the next start.',
  options: {
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    demo: { type: 'boolean' },
  },
  async run(values, _positionals, io) {
    const port = intOption(values, 'port', 0);
    if (port < 0 || port > 65535)
      throw new AppError('bad_request', `--port must be between 0 and 65535, got ${port}.`);
    const host = stringOption(values, 'host') ?? '127.0.0.1';
    const json = values.json === true;
    // With --json, stdout carries exactly one line for the caller to parse; everything else goes to stderr.
    const say = json ? io.err : io.out;

    const webDir = rendererDir();
    const staticDir = existsSync(join(webDir, 'index.html')) ? webDir : null;
    if (staticDir === null) {
      io.err(
        `The web interface is not built (${webDir} is missing): run \`npm run build\`. Serving the API only.`,
      );
    }
    const ws = openWorkspace(stringOption(values, 'workspace') ?? defaultWorkspaceFile(), {
      resumeJobs: true,
      // A headless server has no keychain: keys come from CTGI_KEY_* variables or the key folder.
      keyStore: unavailableKeyStore,
    });
    const signals = untilSignal(io);
    let signalled = false;
    void signals.stopped.then(() => (signalled = true));
    let stopDemo = async (): Promise<void> => {};
    try {
      if (values.demo) {
        // Loaded on demand: a plain `serve` has no use for the synthetic world's renderer and oracle.
        const { ensureDemoWorkspace } = await import('../../demo');
        const demo = await ensureDemoWorkspace(ws, { log: (line) => io.err(line) });
        stopDemo = demo.stop;
        if (demo.job) say(`Importing the demo dataset (job #${demo.job.id}); watch it in the Jobs view.`);
        if (signalled) return 0;
      }
      const server = await startHttpServer(ws, { host, port, staticDir });
      if (json) io.out(JSON.stringify({ url: server.url, token: server.token, port: server.port }));
      else {
        io.out(`CTGI Studio is serving ${ws.file}`);
        io.out(`Open ${server.url}`);
        io.out('Press Ctrl+C to stop.');
      }
      if (!isLoopbackHost(host)) {
        const others =
          host === '0.0.0.0'
            ? lanAddresses().map((a) => `http://${a}:${server.port}/?token=${server.token}`)
            : [];
        io.err(
          `Warning: listening on ${host}, reachable from other machines; the token in the URL is the only guard ` +
            '(plain HTTP: use it on a trusted network or behind an SSH tunnel).' +
            (others.length ? `\nFrom another machine: ${others.join('  ')}` : ''),
        );
      }
      await signals.stopped;
      await server.close();
      return 0;
    } finally {
      signals.dispose();
      await stopDemo();
      await ws.close();
    }
  },
};
