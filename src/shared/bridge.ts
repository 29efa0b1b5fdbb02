// What the preload script exposes as `window.ctgi` in the desktop app. The HTTP transport offers the
// renderer the same three operations.
import type { ApiResult, Channel, EventMap, EventName } from './contract';

export interface Bridge {
  invoke(channel: Channel, arg: unknown): Promise<ApiResult<unknown>>;
  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void;
}

/** Custom protocol that serves images by id in Electron: `ctgi-media://image/<id>/<thumb|full>`. */
export const MEDIA_PROTOCOL = 'ctgi-media';
export const IPC_INVOKE = 'ctgi:invoke';
export const IPC_EVENT = 'ctgi:event';
