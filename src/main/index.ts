// Electron lifecycle only: window, security settings, media protocol and IPC wiring.
import { app, BrowserWindow, protocol, safeStorage, shell } from 'electron';
import { join } from 'node:path';
import { MEDIA_PROTOCOL } from '../shared/bridge';
import { createHandlers } from './api/handlers';
import { wireIpc } from './api/ipc';
import { createEncryptedKeyStore } from './llm/encrypted-key-store';
import { setKeyStore } from './llm/keys';
import { openWorkspace } from './workspace';

protocol.registerSchemesAsPrivileged([
  { scheme: MEDIA_PROTOCOL, privileges: { standard: true, secure: true } },
]);

let win: BrowserWindow | null = null;

async function start(): Promise<void> {
  await app.whenReady();
  // API keys typed into Settings are sealed with the OS keychain (safeStorage), never kept in a workspace.
  setKeyStore(createEncryptedKeyStore(join(app.getPath('userData'), 'api-keys.json'), safeStorage));
  const ws = openWorkspace(process.env.CTGI_WORKSPACE ?? join(app.getPath('userData'), 'workspace.sqlite'));
  const unwire = wireIpc(ws, createHandlers(ws), () => win?.webContents ?? null);

  win = new BrowserWindow({
    width: 1440,
    height: 900,
    show: false,
    title: 'CTGI Studio',
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.mjs'),
      contextIsolation: true,
      sandbox: false,
      nodeIntegration: false,
    },
  });
  win.on('ready-to-show', () => win?.show());
  win.webContents.setWindowOpenHandler(({ url }) => {
    void shell.openExternal(url);
    return { action: 'deny' };
  });
  if (process.env.ELECTRON_RENDERER_URL) await win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else await win.loadFile(join(import.meta.dirname, '../renderer/index.html'));

  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', (e) => {
    e.preventDefault();
    unwire();
    void ws.close().finally(() => app.exit(0));
  });
}

void start();
