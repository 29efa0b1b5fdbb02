// The MTI searches a workspace is working on, owned by the workspace (Workspace.mti) and closed with it:
// a search's memory (its gallery scores, transcript, running action) lives here between the analyst's
// steps; a saved search not in here is rebuilt from its row on the next step.
import type { DatasetId, ModelId } from '#shared/ids';
import type { MtiParams, MtiTranscript } from '#shared/mti/types';
import type { MtiDeps, ScoreCache } from '../pipelines/mti';

export interface MtiSession {
  id: number;
  modelId: ModelId;
  datasetId: DatasetId | null;
  params: MtiParams;
  deps: MtiDeps;
  cache: ScoreCache;
  base: Float32Array;
  transcript: MtiTranscript;
  resultCount: number;
  controller: AbortController | null;
  /** One action at a time per search: a second click waits for the first to finish. */
  busy: Promise<unknown>;
}

const cancelled = (): Error => Object.assign(new Error('The search was cancelled.'), { name: 'AbortError' });

export class MtiSessions {
  private readonly live = new Map<number, MtiSession>();
  private closed = false;

  get(id: number): MtiSession | undefined {
    return this.live.get(id);
  }

  set(s: MtiSession): void {
    if (this.closed) throw new Error('The workspace is closed; its MTI searches are gone.');
    this.live.set(s.id, s);
  }

  /** Cancels the search's running action, if any (it then saves the ranking of the steps before it). */
  cancel(id: number): boolean {
    const s = this.live.get(id);
    if (!s?.controller) return false;
    s.controller.abort(cancelled());
    return true;
  }

  /** Forgets a search (deleted): its running action is cancelled first. */
  delete(id: number): void {
    this.cancel(id);
    this.live.delete(id);
  }

  /** Workspace close: every running action cancelled and waited for, then all forgotten. */
  async close(): Promise<void> {
    this.closed = true;
    const running = [...this.live.values()];
    for (const s of running) s.controller?.abort(cancelled());
    await Promise.all(running.map((s) => s.busy));
    this.live.clear();
  }
}
