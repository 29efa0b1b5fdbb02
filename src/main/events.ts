import { EventEmitter } from 'node:events';
import type { EventMap, EventName } from '#shared/contract';

/** Typed fan-out of EventMap to whichever transports are listening (IPC, SSE, CLI progress). */
export class EventBus {
  private readonly emitter = new EventEmitter().setMaxListeners(100);

  emit<E extends EventName>(name: E, payload: EventMap[E]): void {
    this.emitter.emit(name, payload);
  }

  on<E extends EventName>(name: E, listener: (payload: EventMap[E]) => void): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }
}
