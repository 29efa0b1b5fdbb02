// CLIP encoder API for the main process. ONNX Runtime and the image decoder (sharp/libvips) run in a child
// process (encoder-worker.ts): InferenceSession.run() blocks the thread it runs on, and native code that
// crashes — a GPU driver fault, an image that trips libvips, memory running out — takes its whole process
// with it. In a child, that is the encoder's process, not the app's: every pending call is rejected with a
// message that says so, the encoder refuses further work, and the caller (a job) fails, the app does not.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AppError } from '../errors';
import type { InitMessage, Reply, Request, SessionInfo, TextIo, VisionIo } from './encoder-protocol';
import type { ImageSource } from '../media/image';
import type { PreprocessSpec } from './preprocess';

export type { SessionInfo, TextIo, ValueInfo, VisionIo } from './encoder-protocol';

/** 'auto' tries WebGPU, then CUDA (when its provider library is installed), then CPU. */
export const PROVIDER_CHOICES = ['auto', 'cpu', 'cuda', 'webgpu', 'dml', 'coreml'] as const;
/** ONNX Runtime execution providers: CUDA (Linux, needs ORT's CUDA libraries: docs/gpu.md), WebGPU, DirectML (Windows), CoreML (macOS). */
export type ProviderChoice = (typeof PROVIDER_CHOICES)[number];

/**
 * Images per ORT run for a provider: GPUs want large batches to fill the device (bench:embed --batch 256 on
 * CUDA), the CPU gains nothing past a few dozen and pays in memory.
 */
export function defaultBatchFor(provider: string): number {
  const head = provider.split('+')[0];
  return head === 'cuda' ? 256 : head === 'webgpu' || head === 'dml' || head === 'coreml' ? 64 : 32;
}

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

export interface EmbedResult {
  /** One L2-normalised vector per input, or null where the input could not be read. */
  vectors: (Float32Array | null)[];
  errors: (string | null)[];
  dim: number;
}

interface Pending {
  resolve(r: Extract<Reply, { type: 'result' | 'detections' }>): void;
  reject(e: Error): void;
}

const require = createRequire(import.meta.url);

/** Whether ORT's CUDA provider library sits beside the binding (onnxruntime-node does not ship it). */
function cudaInstalled(): boolean {
  try {
    const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
    return existsSync(
      join(pkg, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'),
    );
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
  /** process.platform; absent: Linux rules (no DirectML, no CoreML). */
  platform?: string;
}

export function providerLists(
  choice: ProviderChoice,
  host: ProviderHost = { gpu: gpuDevicePresent(), cuda: cudaInstalled(), platform: process.platform },
): string[][] {
  switch (choice) {
    case 'cpu':
      return [['cpu']];
    case 'webgpu':
      return [['webgpu', 'cpu']];
    case 'cuda':
      return [['cuda', 'cpu']];
    case 'dml':
      return [['dml', 'cpu']];
    case 'coreml':
      return [['coreml', 'cpu']];
    case 'auto':
      // Each list ends in cpu so that ops a GPU provider lacks still run; the head is what we report.
      // The platform's own provider comes first where ORT ships it (DirectML on Windows, CoreML on macOS).
      return [
        ...(host.gpu && host.platform === 'win32' ? [['dml', 'cpu']] : []),
        ...(host.platform === 'darwin' ? [['coreml', 'cpu']] : []),
        ...(host.gpu ? [['webgpu', 'cpu']] : []),
        ...(host.gpu && host.cuda ? [['cuda', 'cpu']] : []),
        ['cpu'],
      ];
  }
}

function envProvider(): ProviderChoice {
  const v = process.env.CTGI_ORT_PROVIDER;
  return (PROVIDER_CHOICES as readonly string[]).includes(v ?? '') ? (v as ProviderChoice) : 'auto';
}

/**
 * A bundled build puts a compiled encoder-worker.js beside this module; it runs in the same executable
 * (Electron as plain Node through ELECTRON_RUN_AS_NODE). From source (CLI, tests) the worker is TypeScript,
 * loaded through tsx's loader. Its stdout goes to our stderr, so that nothing it or ONNX Runtime prints can
 * mix into a command's --json output.
 */
function spawnEncoderProcess(): ChildProcess {
  const options = {
    serialization: 'advanced' as const,
    stdio: ['ignore', 2, 2, 'ipc'] as ('ignore' | number | 'ipc')[],
  };
  const js = fileURLToPath(new URL('./encoder-worker.js', import.meta.url));
  if (existsSync(js)) return fork(js, [], { ...options, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
  const tsxLoader = pathToFileURL(
    join(dirname(require.resolve('tsx/package.json')), 'dist', 'loader.mjs'),
  ).href;
  const entry = fileURLToPath(new URL('./encoder-worker.ts', import.meta.url));
  return fork(entry, [], { ...options, execArgv: ['--import', tsxLoader] });
}

type ResultReply = Extract<Reply, { type: 'result' | 'detections' }>;
type ReadyReply = Extract<Reply, { type: 'ready' }>;

/**
 * The encoder's child process and its request/reply plumbing, shared by the CLIP encoder and the person
 * detector (ml/detector): one process may hold both kinds of session. `label` names it in errors.
 */
export class EncoderProcess {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private dead: Error | null = null;
  private closing = false;
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly label: string,
    readonly ready: ReadyReply,
  ) {
    child.on('message', (msg: Reply) => {
      if (msg.type !== 'result' && msg.type !== 'detections' && msg.type !== 'error') return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.type === 'error')
        p.reject(new AppError('internal', `The ${this.label} failed: ${msg.message}`));
      else p.resolve(msg);
    });
    child.on('error', (err) => this.die(`the encoder process failed: ${err.message}`));
    child.on('exit', (code, signal) => {
      this.exited = true;
      if (!this.closing)
        this.die(
          `the encoder process stopped unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`})`,
        );
    });
  }

  /** Starts the encoder process and loads the ONNX sessions; rejects with ORT's reason when they cannot load. */
  static async open(
    init: Omit<InitMessage, 'type' | 'providerLists'> & { providers?: ProviderChoice },
    label: string,
  ): Promise<EncoderProcess> {
    const child = spawnEncoderProcess();
    const { providers, ...rest } = init;
    const choice = providers ?? envProvider();
    const ready = await new Promise<ReadyReply>((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null): void =>
        reject(
          new Error(
            `the encoder process exited during start (${signal ? `signal ${signal}` : `code ${code}`})`,
          ),
        );
      child.once('error', reject);
      child.once('exit', onExit);
      child.once('message', (msg: Reply) => {
        child.off('error', reject);
        child.off('exit', onExit);
        if (msg.type === 'ready') resolve(msg);
        else if (msg.type === 'init-error') reject(new Error(msg.message));
        else reject(new Error(`unexpected first message from the encoder process: ${msg.type}`));
      });
      child.send({ type: 'init', ...rest, providerLists: providerLists(choice) } satisfies Request);
    }).catch((err: unknown) => {
      child.kill('SIGKILL');
      throw new AppError(
        'unavailable',
        `ONNX Runtime could not load the model: ${err instanceof Error ? err.message : String(err)}`,
      );
    });
    return new EncoderProcess(child, label, ready);
  }

  call(make: (id: number) => Request): Promise<ResultReply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send(make(id));
    });
  }

  post(msg: Request): void {
    if (this.dead) throw this.dead;
    this.send(msg);
  }

  get alive(): boolean {
    return this.dead === null;
  }

  /**
   * Rejects pending calls and ends the encoder process. Killing it mid-decode or mid-run is safe: its
   * native threads die with it, and the operating system frees what it held.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.die('the encoder was closed');
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await gone;
  }

  /** A send to a process that has just died fails: the exit handler rejects what was pending. */
  private send(msg: Request): void {
    this.child.send(msg, (err) => {
      if (err) this.die(`the encoder process is gone (${err.message})`);
    });
  }

  private die(reason: string): void {
    if (this.dead) return;
    this.dead = new AppError(
      'unavailable',
      this.closing
        ? `The ${this.label} was closed before the call finished.`
        : `The ${this.label} crashed: ${reason}. Check that the model files are intact and that there is enough memory, then resume the job.`,
    );
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
  }
}

export class ClipEncoder {
  /** The provider list that created the sessions, e.g. "webgpu+cpu" or "cpu". */
  readonly provider: string;
  /** Provider lists that failed before, with ORT's reason. */
  readonly providerFailures: string[];
  readonly vision: SessionInfo | null;
  readonly text: SessionInfo | null;

  private constructor(private readonly proc: EncoderProcess) {
    this.provider = proc.ready.provider;
    this.providerFailures = proc.ready.tried;
    this.vision = proc.ready.vision;
    this.text = proc.ready.text;
  }

  /** Starts the encoder process and loads the ONNX sessions; rejects with ORT's reason when they cannot load. */
  static async open(opts: EncoderOptions): Promise<ClipEncoder> {
    const proc = await EncoderProcess.open(
      {
        visionPath: opts.visionPath ?? null,
        textPath: opts.textPath ?? null,
        batchSize: opts.batchSize ?? DEFAULT_BATCH_SIZE,
        preprocess: opts.preprocess ?? null,
        ...(opts.providers ? { providers: opts.providers } : {}),
      },
      'CLIP encoder',
    );
    return new ClipEncoder(proc);
  }

  /** Tells the worker which inputs/outputs to use (from model-folder validation). */
  bind(io: { vision?: VisionIo | null; text?: TextIo | null }): void {
    this.proc.post({ type: 'bind', vision: io.vision ?? null, text: io.text ?? null });
  }

  /**
   * Reads, decodes, preprocesses and embeds images in the encoder process, in batches; unreadable files
   * come back as errors. Only paths and stored facts cross the process boundary, never pixels.
   */
  async embedImages(sources: readonly ImageSource[]): Promise<EmbedResult> {
    if (sources.length === 0) return { vectors: [], errors: [], dim: 0 };
    const r = await this.result((id) => ({ type: 'images', id, sources: [...sources] }));
    return split(r.vectors, r.dim, r.errors);
  }

  /** Embeds pre-made NCHW pixel tensors (`count` images). */
  async embedPixels(pixels: Float32Array, count: number): Promise<Float32Array[]> {
    const r = await this.result((id) => ({ type: 'pixels', id, pixels, count }));
    return split(r.vectors, r.dim, r.errors).vectors as Float32Array[];
  }

  /** Embeds token id rows (`count` × `seq`, already padded to the model's context). */
  async embedTokens(ids: Int32Array, count: number, seq: number): Promise<Float32Array[]> {
    const r = await this.result((id) => ({ type: 'tokens', id, ids, count, seq }));
    return split(r.vectors, r.dim, r.errors).vectors as Float32Array[];
  }

  /** For tests of the crash path: the encoder process aborts, as native code does when it crashes. */
  simulateCrash(): void {
    this.proc.post({ type: 'crash' });
  }

  get alive(): boolean {
    return this.proc.alive;
  }

  /** Rejects pending calls and ends the encoder process. */
  close(): Promise<void> {
    return this.proc.close();
  }

  private async result(make: (id: number) => Request): Promise<Extract<Reply, { type: 'result' }>> {
    const r = await this.proc.call(make);
    if (r.type !== 'result') throw new AppError('internal', `The CLIP encoder answered with ${r.type}.`);
    return r;
  }
}

function split(vectors: Float32Array, dim: number, errors: (string | null)[]): EmbedResult {
  return {
    dim,
    errors,
    vectors: errors.map((e, i) => (e === null ? vectors.subarray(i * dim, (i + 1) * dim) : null)),
  };
}
