import { ipcMain, protocol, type WebContents } from 'electron';
import { IPC_EVENT, IPC_INVOKE, MEDIA_PROTOCOL } from '../../shared/bridge';
import { EVENT_NAMES } from '../../shared/contract';
import { mediaResponse } from '../media/serve';
import type { Workspace } from '../workspace';
import { dispatch, type Handlers } from './handlers';

/** Electron transport: one invoke channel validated by `dispatch`, events forwarded to the window. */
export function wireIpc(ws: Workspace, handlers: Handlers, target: () => WebContents | null): () => void {
  ipcMain.handle(IPC_INVOKE, (_event, channel: unknown, arg: unknown) =>
    dispatch(handlers, String(channel), arg),
  );
  const offs = EVENT_NAMES.map((name) =>
    ws.bus.on(name, (payload) => {
      const wc = target();
      if (wc && !wc.isDestroyed()) wc.send(IPC_EVENT, name, payload);
    }),
  );
  protocol.handle(MEDIA_PROTOCOL, async (request) => {
    const url = new URL(request.url);
    // ctgi-media://image/<id>/<variant>
    const [id, variant] = url.pathname.replace(/^\/+/, '').split('/');
    const res = await mediaResponse(ws, url.hostname === 'image' ? Number(id) : NaN, variant ?? 'full');
    return new Response(new Uint8Array(res.body), { status: res.status, headers: res.headers });
  });
  return () => {
    ipcMain.removeHandler(IPC_INVOKE);
    for (const off of offs) off();
  };
}
