// One helper thread for the fast path's first pass (a scan over every code, the bulk of a query at
// 1M vectors). The API stays synchronous: the JS thread posts the helper its half, scans the other
// half itself, then blocks on an Atomics cell until the helper is done. Codes and scores live in
// SharedArrayBuffers, so a job message carries only the small per-query table.
// Whenever the helper is not there (not yet started, failed, or too slow) the caller scans the
// helper's half itself: results never depend on whether the helper ran, only latency does.
// One helper, not one per core: the target machine has 2 cores and the JS thread is the other one.
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { look, partialScores } from './kernels';

/** Cells of the control array shared with the helper. */
const READY = 0;
const DONE = 1;

/** A helper slower than this is given up on (its half is rescanned here); a scan half takes ~10–50 ms. */
const JOB_TIMEOUT_MS = 2000;
/** A helper that has not started by then is not waited for (searches run on one thread meanwhile anyway). */
const START_TIMEOUT_MS = 10_000;

export interface ScanJob {
  bits: Uint32Array;
  words: number;
  sub: Float32Array;
  at: Int32Array;
  m: number;
  mask: Uint8Array | undefined;
  scores: Float32Array;
}

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
${look.toString()}
${partialScores.toString()}
const ctl = new Int32Array(workerData.control);
const range = new Float64Array(workerData.range);
parentPort.on('message', (j) => {
  partialScores(j.bits, j.words, j.sub, j.at, j.m, j.mask, j.maskBase, j.scores, j.from, j.to, range);
  Atomics.store(ctl, ${DONE}, j.id);
  Atomics.notify(ctl, ${DONE});
});
Atomics.store(ctl, ${READY}, 1);
`;

class ScanHelper {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(8));
  private readonly range = new Float64Array(new SharedArrayBuffer(16));
  private readonly worker: Worker;
  private broken = false;
  private nextId = 1;
  readonly ready: Promise<boolean>;

  constructor() {
    this.worker = new Worker(workerSource, {
      eval: true,
      workerData: { control: this.ctl.buffer, range: this.range.buffer },
    });
    // Never keep the process alive for a helper that only serves synchronous calls.
    this.worker.unref();
    this.worker.on('error', () => {
      this.broken = true;
    });
    this.worker.on('exit', () => {
      this.broken = true;
    });
    // Polled with a timer that holds the event loop: someone awaiting this must not see the process
    // exit under them because the only other handle (the helper) is unref'd. Bounded by START_TIMEOUT_MS.
    const started = performance.now();
    this.ready = new Promise((resolve) => {
      const poll = (): void => {
        if (this.broken) resolve(false);
        else if (Atomics.load(this.ctl, READY) === 1) resolve(true);
        else if (performance.now() - started > START_TIMEOUT_MS) resolve(false);
        else setTimeout(poll, 5);
      };
      poll();
    });
  }

  get usable(): boolean {
    return !this.broken && Atomics.load(this.ctl, READY) === 1;
  }

  /**
   * Whether a core looks free for the helper. When other processes already keep every core busy, a
   * split makes each query wait for the slower of two descheduled threads: measured at 1M on 2 cores
   * under load ≈ 8, p50 134 → 144 ms and p95 309 → 400 ms with the helper. Sampled at most once a second.
   */
  coreLooksFree(): boolean {
    const now = performance.now();
    if (now - this.loadAt > 1000) {
      this.loadAt = now;
      // loadavg() is [0, 0, 0] on Windows: there the helper is always used.
      this.free = (loadavg()[0] as number) < availableParallelism() - 0.5;
    }
    return this.free;
  }
  private loadAt = -Infinity;
  private free = true;

  /**
   * Scores [0, size) of `job`: the helper takes the upper part, this thread the lower. Returns [lo, hi]
   * over both halves, or null when the helper cannot be used (the caller then scans alone).
   */
  scan(job: ScanJob, size: number): [number, number] | null {
    if (!this.usable) return null;
    const split = size >> 1;
    const id = this.nextId++;
    const mask = job.mask ? job.mask.slice(split, size) : null;
    try {
      this.worker.postMessage({ ...job, mask, maskBase: split, from: split, to: size, id });
    } catch {
      this.broken = true;
      return null;
    }
    const mine = new Float64Array(2);
    partialScores(
      job.bits,
      job.words,
      job.sub,
      job.at,
      job.m,
      job.mask ?? null,
      0,
      job.scores,
      0,
      split,
      mine,
    );
    const deadline = performance.now() + JOB_TIMEOUT_MS;
    for (;;) {
      const seen = Atomics.load(this.ctl, DONE);
      if (seen === id) break;
      const left = deadline - performance.now();
      if (left <= 0 || this.broken) {
        // Too slow or gone: stop relying on it and do its half here. A late write of its half is
        // harmless: it writes the very values computed here.
        this.broken = true;
        const theirs = new Float64Array(2);
        partialScores(
          job.bits,
          job.words,
          job.sub,
          job.at,
          job.m,
          job.mask ?? null,
          0,
          job.scores,
          split,
          size,
          theirs,
        );
        return [
          Math.min(mine[0] as number, theirs[0] as number),
          Math.max(mine[1] as number, theirs[1] as number),
        ];
      }
      Atomics.wait(this.ctl, DONE, seen, left);
    }
    return [
      Math.min(mine[0] as number, this.range[0] as number),
      Math.max(mine[1] as number, this.range[1] as number),
    ];
  }
}

let helper: ScanHelper | null | undefined;

/** The process's scan helper, started on first use; null on a one-core machine or if it cannot start. */
export function scanHelper(): ScanHelper | null {
  if (helper === undefined) {
    try {
      helper = availableParallelism() >= 2 ? new ScanHelper() : null;
    } catch {
      helper = null;
    }
  }
  return helper;
}

/** Resolves once the helper can take work (true), or will never (false): for tests and benchmarks. */
export function scanHelperReady(): Promise<boolean> {
  return scanHelper()?.ready ?? Promise.resolve(false);
}
