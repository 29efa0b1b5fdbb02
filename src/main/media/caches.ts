import { chosenVideoTools, type VideoTools } from './video';

/**
 * What the media server of one workspace remembers between requests: the FFmpeg it found (located once,
 * it runs a few `-version` probes, not once per frame) and the thumbnails being made now (two requests
 * for one new thumbnail, a grid asking twice or two tabs, share one decode).
 */
export class MediaCaches {
  private tools: Promise<VideoTools> | null = null;
  readonly thumbsInFlight = new Map<string, Promise<Buffer>>();

  videoTools(): Promise<VideoTools> {
    if (!this.tools) {
      const t = chosenVideoTools();
      t.catch(() => {
        if (this.tools === t) this.tools = null;
      });
      this.tools = t;
    }
    return this.tools;
  }

  /** Waits for the thumbnails being written, so that none is half-written when the workspace goes. */
  async close(): Promise<void> {
    const pending = [...this.thumbsInFlight.values()];
    this.tools = null;
    await Promise.allSettled(pending);
    this.thumbsInFlight.clear();
  }
}
