// The person detector for the main process: the ONNX session runs in the encoder's child process (as CLIP's
// do), so that a native crash fails the footage job, not the app, and run() never blocks this thread.
import { AppError } from '../../errors';
import { EncoderProcess, type ProviderChoice } from '../encoder';
import type { SessionInfo } from '../encoder-protocol';
import { geometry, letterboxRgb } from './letterbox';
import type { FrameInput } from './run';
import type { Detection, DetectorRunSpec } from './spec';

export interface DetectorOptions {
  modelPath: string;
  /** Frames per ORT run when the model's batch axis is dynamic. */
  batchSize?: number;
  /** Default: $CTGI_ORT_PROVIDER, else 'auto' (WebGPU, CUDA where installed, CPU). */
  providers?: ProviderChoice;
}

export const DEFAULT_DETECTOR_BATCH = 4;

export class PersonDetector {
  private spec: DetectorRunSpec | null = null;

  private constructor(private readonly proc: EncoderProcess) {}

  /** Starts the encoder process with the detector session; bind() before detect(). */
  static async open(opts: DetectorOptions): Promise<PersonDetector> {
    const proc = await EncoderProcess.open(
      {
        visionPath: null,
        textPath: null,
        detectorPath: opts.modelPath,
        batchSize: opts.batchSize ?? DEFAULT_DETECTOR_BATCH,
        preprocess: null,
        ...(opts.providers ? { providers: opts.providers } : {}),
      },
      'person detector',
    );
    return new PersonDetector(proc);
  }

  /** The detector graph's inputs and outputs, as ONNX Runtime reads them. */
  get session(): SessionInfo {
    return this.proc.ready.detector!;
  }

  /** The provider list that created the session, e.g. "cpu". */
  get provider(): string {
    return this.proc.ready.provider;
  }

  /** How to run the model (from detector-folder validation). */
  bind(spec: DetectorRunSpec): void {
    this.spec = spec;
    this.proc.post({ type: 'bind-detector', spec });
  }

  /**
   * People in each frame, in frame pixels, best first. Frames are letterboxed here, on this thread, to the
   * model's input size (a 1080p frame shrinks 8-fold), and only that crosses to the encoder process, which
   * normalises, runs and decodes; send a few at a time (a batch) to keep memory flat.
   */
  async detect(frames: readonly FrameInput[]): Promise<Detection[][]> {
    if (frames.length === 0) return [];
    const spec = this.spec;
    if (!spec)
      throw new AppError('internal', 'The person detector was not bound to its model folder (bind()).');
    const [h, w] = spec.inputSize;
    const boxed = frames.map((f) => {
      const g = geometry(f.width, f.height, w, h, spec.preprocess);
      return { rgb: letterboxRgb(f.rgb, g, spec.preprocess.padValue), geometry: g };
    });
    const r = await this.proc.call((id) => ({ type: 'detect', id, frames: boxed }));
    if (r.type !== 'detections')
      throw new AppError('internal', `The person detector answered with ${r.type}.`);
    const out: Detection[][] = [];
    let k = 0;
    for (const n of r.counts) {
      const list: Detection[] = [];
      for (let j = 0; j < n; j++, k += 5)
        list.push({
          x1: r.boxes[k]!,
          y1: r.boxes[k + 1]!,
          x2: r.boxes[k + 2]!,
          y2: r.boxes[k + 3]!,
          score: r.boxes[k + 4]!,
        });
      out.push(list);
    }
    return out;
  }

  /** For tests of the crash path: the process aborts, as native code does when it crashes. */
  simulateCrash(): void {
    this.proc.post({ type: 'crash' });
  }

  get alive(): boolean {
    return this.proc.alive;
  }

  close(): Promise<void> {
    return this.proc.close();
  }
}
