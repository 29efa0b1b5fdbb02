// CLIP encoder API for the main thread. ONNX Runtime runs in a worker thread (encoder-worker.ts), because
// InferenceSession.run() blocks the thread it runs on; this side only sends requests and matches replies.
// If the worker dies or throws, every pending call is rejected with a message that says so, and the
// encoder refuses further work: the caller (a job) fails, the app does not.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError } from '../errors';
import type { Reply, Request, SessionInfo, TextIo, VisionIo } from './encoder-protocol';
import type { PreprocessSpec } from './preprocess';

export type { SessionInfo, TextIo, ValueInfo, VisionIo } from './encoder-protocol';

/** 'auto' tries WebGPU, then CUDA (when its provider library is installed), then CPU. */
export type ProviderChoice = 'auto' | 'webgpu' | 'cuda' | 'cpu';

export interface EncoderOptions {
  visionPath?: string | null;
  textPath?: string | null;
  /** Needed to embed image files (not for pre-made pixel tensors' shape checks). */
  preprocess?: PreprocessSpec | null;
  /** Images (or texts) per ORT run. */
  batchSize?: number;
  /** Default: $CTGI_ORT_PROVIDER, else 'auto'. */
  providers?: ProviderChoice;
}

export const DEFAULT_BATCH_SIZE = 32;

/** How long close() waits for the batch in progress (seconds for a real ViT on a CPU) before terminating. */
const CLOSE_GRACE_MS = 60_000;

export interface EmbedResult {
  /** One L2-normalised vector per input, or null where the input could not be read. */
  vectors: (Float32Array | null)[];
  errors: (string | null)[];
  dim: number;
}

interface Pending {
  resolve(r: Extract<Reply, { type: 'result' }>): void;
  reject(e: Error): void;
}

const require = createRequire(import.meta.url);

/** Whether ORT's CUDA provider library sits beside the binding (onnxruntime-node does not ship it). */
function cudaInstalled(): boolean {
  try {
    const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
    return existsSync(join(pkg, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

/**
 * Whether this machine shows a GPU to user space at all. Only Linux is checked (render nodes for
 * Mesa/AMD/Intel, NVIDIA's device files, WSL's /dev/dxg): there, asking ONNX Runtime for WebGPU on a
 * machine without one costs start-up time and prints Vulkan warnings before it falls back anyway.
 */
export function gpuDevicePresent(): boolean {
  if (process.platform !== 'linux') return true;
  try {
    if (readdirSync('/dev/dri').some((f) => f.startsWith('renderD'))) return true;
  } catch {
    // no /dev/dri
  }
  return existsSync('/dev/nvidia0') || existsSync('/dev/dxg');
}

export interface ProviderHost {
  gpu: boolean;
  cuda: boolean;
}

export function providerLists(choice: ProviderChoice, host: ProviderHost = { gpu: gpuDevicePresent(), cuda: cudaInstalled() }): string[][] {
  switch (choice) {
    case 'cpu':
      return [['cpu']];
    case 'webgpu':
      return [['webgpu', 'cpu']];
    case 'cuda':
      return [['cuda', 'cpu']];
    case 'auto':
      // Each list ends in cpu so that ops a GPU provider lacks still run; the head is what we report.
      return [...(host.gpu ? [['webgpu', 'cpu']] : []), ...(host.gpu && host.cuda ? [['cuda', 'cpu']] : []), ['cpu']];
  }
}

function envProvider(): ProviderChoice {
  const v = process.env.CTGI_ORT_PROVIDER;
  return v === 'cpu' || v === 'webgpu' || v === 'cuda' ? v : 'auto';
}

let pinned = false;
/**
 * Loads sharp and ONNX Runtime once on this (main) thread too. glibc unloads a native library when its
 * last user goes away: without this, a worker thread that exits drops libvips and ORT from the process
 * while their own threads may still be finishing, and the whole process crashes (lovell/sharp#2263).
 */
function pinNativeLibraries(): void {
  if (pinned) return;
  require('sharp');
  require('onnxruntime-node');
  pinned = true;
}

/**
 * A bundled build puts a compiled encoder-worker.js beside this module. From source (CLI, tests) the
 * worker is TypeScript: on Node 20 loader hooks registered with `--import tsx` do not reach worker
 * threads, so the worker is started through tsx's in-thread CommonJS hook instead.
 */
function spawnWorker(): Worker {
  pinNativeLibraries();
  const js = new URL('./encoder-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js);
  const tsxCjs = require.resolve('tsx/cjs/api');
  const entry = fileURLToPath(new URL('./encoder-worker.ts', import.meta.url));
  return new Worker(`require(${JSON.stringify(tsxCjs)}).require(${JSON.stringify(entry)}, __filename);`, {
    eval: true,
  });
}

export class ClipEncoder {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private dead: Error | null = null;
  private closing = false;

  private constructor(
    private readonly worker: Worker,
    /** The provider list that created the sessions, e.g. "webgpu+cpu" or "cpu". */
    readonly provider: string,
    /** Provider lists that failed before, with ORT's reason. */
    readonly providerFailures: string[],
    readonly vision: SessionInfo | null,
    readonly text: SessionInfo | null,
  ) {
    worker.on('message', (msg: Reply) => {
      if (msg.type !== 'result' && msg.type !== 'error') return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.type === 'result') p.resolve(msg);
      else p.reject(new AppError('internal', `The CLIP encoder failed: ${msg.message}`));
    });
    worker.on('error', (err) => this.die(`the encoder thread threw: ${err.message}`));
    worker.on('exit', (code) => {
      if (!this.closing) this.die(`the encoder thread stopped unexpectedly (exit code ${code})`);
    });
  }

  /** Starts the worker and loads the ONNX sessions; rejects with ORT's reason when they cannot load. */
  static async open(opts: EncoderOptions): Promise<ClipEncoder> {
    const worker = spawnWorker();
    const choice = opts.providers ?? envProvider();
    const ready = await new Promise<Extract<Reply, { type: 'ready' }>>((resolve, reject) => {
      const onExit = (code: number): void => reject(new Error(`the encoder thread exited during start (code ${code})`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (msg: Reply) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        if (msg.type === 'ready') resolve(msg);
        else if (msg.type === 'init-error') reject(new Error(msg.message));
        else reject(new Error(`unexpected first message from the encoder thread: ${msg.type}`));
      });
      worker.postMessage({
        type: 'init',
        visionPath: opts.visionPath ?? null,
        textPath: opts.textPath ?? null,
        providerLists: providerLists(choice),
        batchSize: opts.batchSize ?? DEFAULT_BATCH_SIZE,
        preprocess: opts.preprocess ?? null,
      } satisfies Request);
    }).catch(async (err: unknown) => {
      await worker.terminate();
      throw new AppError(
        'unavailable',
        `ONNX Runtime could not load the model: ${err instanceof Error ? err.message : String(err)}`,
      );
    });
    return new ClipEncoder(worker, ready.provider, ready.tried, ready.vision, ready.text);
  }

  /** Tells the worker which inputs/outputs to use (from model-folder validation). */
  bind(io: { vision?: VisionIo | null; text?: TextIo | null }): void {
    this.post({ type: 'bind', vision: io.vision ?? null, text: io.text ?? null });
  }

  /** Decodes, preprocesses and embeds image files, in batches; unreadable files come back as errors. */
  async embedImages(paths: readonly string[]): Promise<EmbedResult> {
    if (paths.length === 0) return { vectors: [], errors: [], dim: 0 };
    const r = await this.call((id) => ({ type: 'images', id, sources: [...paths] }));
    return split(r.vectors, r.dim, r.errors);
  }

  /** Embeds pre-made NCHW pixel tensors (`count` images); the buffer is transferred, not copied. */
  async embedPixels(pixels: Float32Array, count: number): Promise<Float32Array[]> {
    const r = await this.call((id) => ({ type: 'pixels', id, pixels, count }), [pixels.buffer as ArrayBuffer]);
    return split(r.vectors, r.dim, r.errors).vectors as Float32Array[];
  }

  /** Embeds token id rows (`count` × `seq`, already padded to the model's context). */
  async embedTokens(ids: Int32Array, count: number, seq: number): Promise<Float32Array[]> {
    const r = await this.call((id) => ({ type: 'tokens', id, ids, count, seq }));
    return split(r.vectors, r.dim, r.errors).vectors as Float32Array[];
  }

  /** For tests of the crash path: the worker thread stops without answering, as if it had crashed. */
  simulateCrash(): void {
    this.post({ type: 'crash' });
  }

  get alive(): boolean {
    return this.dead === null;
  }

  /**
   * Stops the worker without pulling the floor from under native code: pending calls are rejected at
   * once, the worker skips what has not started, lets the decode or run in progress finish, releases its
   * sessions and exits. Terminating it mid-decode can crash the whole process (sharp's libvips threads
   * would call back into a thread that is gone), so terminate() is only the fallback after `graceMs`.
   */
  async close(graceMs = CLOSE_GRACE_MS): Promise<'exited' | 'terminated'> {
    if (this.closing || this.worker.threadId === -1) {
      this.closing = true;
      return 'exited';
    }
    this.closing = true;
    this.die('the encoder was closed');
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'close' } satisfies Request);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    const how = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (how !== 'late') return 'exited';
    await this.worker.terminate();
    return 'terminated';
  }

  private call(
    make: (id: number) => Request,
    transfer: ArrayBuffer[] = [],
  ): Promise<Extract<Reply, { type: 'result' }>> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(make(id), transfer);
    });
  }

  private post(msg: Request): void {
    if (this.dead) throw this.dead;
    this.worker.postMessage(msg);
  }

  private die(reason: string): void {
    if (this.dead) return;
    this.dead = new AppError(
      'unavailable',
      this.closing
        ? `The CLIP encoder was closed before the call finished.`
        : `The CLIP encoder crashed: ${reason}. Check that the model files are intact and that there is enough memory, then resume the job.`,
    );
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
  }
}

function split(vectors: Float32Array, dim: number, errors: (string | null)[]): EmbedResult {
  return {
    dim,
    errors,
    vectors: errors.map((e, i) => (e === null ? vectors.subarray(i * dim, (i + 1) * dim) : null)),
  };
}
