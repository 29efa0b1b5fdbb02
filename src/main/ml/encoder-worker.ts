// The encoder's child process (started by encoder.ts): owns the ONNX Runtime sessions (CLIP towers, and a
// person detector when one is loaded: ml/detector), because InferenceSession.run() blocks the thread it
// runs on, and reads and decodes the images through media's one image reader (containment, regular files,
// stored hash, BMP, orientation; libvips' threads), so that native code that crashes takes this process
// down, not the app. The decode of the next
// batch is started before the current batch's run(), so file reading and decoding overlap inference.
import * as ort from 'onnxruntime-node';
import { detectFrames, type LetterboxedFrame } from './detector/run';
import type { DetectorRunSpec } from './detector/spec';
import type {
  InitMessage,
  Reply,
  Request,
  SessionInfo,
  TextIo,
  ValueInfo,
  VisionIo,
} from './encoder-protocol';
import { decodeImageSource, type ImageSource } from '../media/image';
import { transformRgb, writeNormalised, type PreprocessSpec, type RgbImage } from './preprocess';

const parent = process.send?.bind(process);
if (!parent)
  throw new Error('encoder-worker.ts must run as a child process with an IPC channel (see encoder.ts)');
// The app went away (closed, or killed): nothing is left to answer to.
process.on('disconnect', () => process.exit(0));

let vision: ort.InferenceSession | null = null;
let text: ort.InferenceSession | null = null;
let detector: ort.InferenceSession | null = null;
let detectorSpec: DetectorRunSpec | null = null;
let visionIo: VisionIo | null = null;
let textIo: TextIo | null = null;
let spec: PreprocessSpec | null = null;
let batchSize = 32;
/** Inference runs one request at a time, in arrival order; decoding of later requests runs ahead. */
let chain: Promise<void> = Promise.resolve();

const send = (reply: Reply): void => {
  parent(reply);
};

function describe(meta: readonly ort.InferenceSession.ValueMetadata[]): ValueInfo[] {
  return meta.map((m) =>
    m.isTensor
      ? { name: m.name, type: m.type, shape: m.shape.map((d) => (typeof d === 'number' ? d : String(d))) }
      : { name: m.name, type: 'non-tensor', shape: [] },
  );
}
const info = (s: ort.InferenceSession | null): SessionInfo | null =>
  s ? { inputs: describe(s.inputMetadata), outputs: describe(s.outputMetadata) } : null;

async function init(msg: InitMessage): Promise<void> {
  batchSize = msg.batchSize;
  spec = msg.preprocess;
  const tried: string[] = [];
  let lastError = '';
  // ORT does not report which provider a session ended up on, so we try lists in order and keep the
  // first that creates every session: that list's head is the provider in use.
  for (const providers of msg.providerLists) {
    try {
      const options: ort.InferenceSession.SessionOptions = {
        executionProviders: providers,
        logSeverityLevel: 3,
      };
      const v = msg.visionPath ? await ort.InferenceSession.create(msg.visionPath, options) : null;
      const t = msg.textPath ? await ort.InferenceSession.create(msg.textPath, options) : null;
      const d = msg.detectorPath ? await ort.InferenceSession.create(msg.detectorPath, options) : null;
      vision = v;
      text = t;
      detector = d;
      send({
        type: 'ready',
        provider: providers.join('+'),
        vision: info(v),
        text: info(t),
        detector: info(d),
        tried,
      });
      return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
      tried.push(`${providers.join('+')}: ${firstLine(lastError)}`);
    }
  }
  send({ type: 'init-error', message: lastError });
}

const firstLine = (s: string): string => (s.split('\n')[0] ?? s).slice(0, 300);

/** L2-normalises each row in place; an all-zero row stays zero rather than becoming NaN. */
function normaliseRows(data: Float32Array, dim: number): void {
  for (let r = 0; r < data.length / dim; r++) {
    let sum = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) sum += data[i]! * data[i]!;
    if (sum === 0) continue;
    const inv = 1 / Math.sqrt(sum);
    for (let i = r * dim; i < (r + 1) * dim; i++) data[i]! *= inv;
  }
}

function embeddingsOf(out: ort.Tensor, count: number, name: string): { data: Float32Array; dim: number } {
  if (out.type !== 'float32') throw new Error(`output ${name} is ${out.type}, expected float32`);
  const dims = out.dims;
  if (dims.length !== 2 || dims[0] !== count) {
    throw new Error(`output ${name} has shape [${dims.join(', ')}], expected [${count}, D]`);
  }
  // Copy: ORT may reuse the output buffer; ours is sent to the app.
  const data = new Float32Array(out.data as Float32Array);
  normaliseRows(data, dims[1]!);
  return { data, dim: dims[1]! };
}

async function runVision(pixels: Float32Array, count: number): Promise<{ data: Float32Array; dim: number }> {
  if (!vision || !visionIo || !spec) throw new Error('the image tower is not loaded');
  const [h, w] = spec.imageSize;
  const dims = [count, 3, h, w];
  const out = await vision.run({ [visionIo.input]: new ort.Tensor('float32', pixels, dims) });
  return embeddingsOf(out[visionIo.output]!, count, visionIo.output);
}

/** Image pixels of one chunk, decoded and transformed, or the reason each failed. */
type Prepared = { pixels: Float32Array; errors: (string | null)[] };

function prepare(sources: ImageSource[]): Promise<Prepared> {
  const s = spec;
  if (!s) return Promise.reject(new Error('no preprocessing spec: the image tower is not loaded'));
  const [h, w] = s.imageSize;
  const pixels = new Float32Array(sources.length * 3 * h * w);
  return Promise.all(
    sources.map((src, i) =>
      decodeImageSource(src).then(
        (img: RgbImage) => {
          try {
            writeNormalised(transformRgb(img, s).data, s, pixels, i);
            return null;
          } catch (err) {
            return err instanceof Error ? err.message : String(err);
          }
        },
        (err: unknown) => (err instanceof Error ? err.message : String(err)),
      ),
    ),
  ).then((errors) => ({ pixels, errors }));
}

async function embedImages(sources: ImageSource[], first: Promise<Prepared>): Promise<Reply> {
  const chunks: { count: number; data: Float32Array | null }[] = [];
  const errors: (string | null)[] = [];
  let dim = 0;
  let next: Promise<Prepared> | null = first;
  for (let start = 0; start < sources.length; start += batchSize) {
    const ready: Prepared = await next!;
    const after = start + batchSize;
    // Start decoding the next chunk before run() occupies this thread.
    next = after < sources.length ? prepare(sources.slice(after, after + batchSize)) : null;
    next?.catch(() => undefined);
    errors.push(...ready.errors);
    const count = ready.errors.length;
    // Unreadable images ride along as zero pixels (cheaper than reshaping the batch); their rows are zeroed.
    if (ready.errors.every((e) => e !== null)) {
      chunks.push({ count, data: null });
      continue;
    }
    const r = await runVision(ready.pixels, count);
    dim = r.dim;
    chunks.push({ count, data: r.data });
  }
  const vectors = new Float32Array(sources.length * dim);
  let row = 0;
  for (const c of chunks) {
    if (c.data) vectors.set(c.data, row * dim);
    row += c.count;
  }
  errors.forEach((e, i) => {
    if (e !== null) vectors.fill(0, i * dim, (i + 1) * dim);
  });
  return { type: 'result', id: 0, vectors, dim, errors };
}

async function embedPixels(pixels: Float32Array, count: number): Promise<Reply> {
  if (!spec) throw new Error('the image tower is not loaded');
  const [h, w] = spec.imageSize;
  const per = 3 * h * w;
  const parts: Float32Array[] = [];
  let dim = 0;
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const r = await runVision(pixels.subarray(start * per, (start + n) * per), n);
    dim = r.dim;
    parts.push(r.data);
  }
  const vectors = new Float32Array(count * dim);
  parts.forEach((p, i) => vectors.set(p, i * batchSize * dim));
  return { type: 'result', id: 0, vectors, dim, errors: new Array<null>(count).fill(null) };
}

async function embedTokens(ids: Int32Array, count: number, seq: number): Promise<Reply> {
  if (!text || !textIo) throw new Error('the text tower is not loaded');
  const io = textIo;
  const parts: Float32Array[] = [];
  let dim = 0;
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const slice = ids.subarray(start * seq, (start + n) * seq);
    const feeds: Record<string, ort.Tensor> = {
      [io.input]:
        io.idsType === 'int64'
          ? new ort.Tensor(
              'int64',
              BigInt64Array.from(slice, (v) => BigInt(v)),
              [n, seq],
            )
          : new ort.Tensor('int32', Int32Array.from(slice), [n, seq]),
    };
    if (io.attentionMask) {
      // Real tokens up to and including the end token; pad is 0, which is also a real token id ("!"),
      // so the mask comes from the end token's position, not from the value.
      const mask = new BigInt64Array(n * seq);
      for (let r = 0; r < n; r++) {
        for (let i = 0; i < seq; i++) {
          mask[r * seq + i] = 1n;
          if (slice[r * seq + i] === EOT) break;
        }
      }
      feeds[io.attentionMask] = new ort.Tensor('int64', mask, [n, seq]);
    }
    const out = await text.run(feeds);
    const r = embeddingsOf(out[io.output]!, n, io.output);
    dim = r.dim;
    parts.push(r.data);
  }
  const vectors = new Float32Array(count * dim);
  parts.forEach((p, i) => vectors.set(p, i * batchSize * dim));
  return { type: 'result', id: 0, vectors, dim, errors: new Array<null>(count).fill(null) };
}
const EOT = 49407;

async function detect(frames: LetterboxedFrame[]): Promise<Reply> {
  if (!detector || !detectorSpec) throw new Error('the person detector is not loaded');
  const found = await detectFrames(detector, detectorSpec, frames, batchSize);
  const counts = found.map((f) => f.length);
  const boxes = new Float32Array(counts.reduce((a, b) => a + b, 0) * 5);
  let k = 0;
  for (const f of found)
    for (const d of f) {
      boxes.set([d.x1, d.y1, d.x2, d.y2, d.score], k);
      k += 5;
    }
  return { type: 'detections', id: 0, boxes, counts };
}

function enqueue(id: number, work: () => Promise<Reply>): void {
  chain = chain.then(async () => {
    try {
      const reply = await work();
      if (reply.type === 'result' || reply.type === 'detections') send({ ...reply, id });
    } catch (err) {
      send({ type: 'error', id, message: err instanceof Error ? err.message : String(err) });
    }
  });
}

process.on('message', (msg: Request) => {
  switch (msg.type) {
    case 'init':
      chain = chain.then(() => init(msg));
      break;
    case 'bind':
      visionIo = msg.vision;
      textIo = msg.text;
      break;
    case 'images': {
      // Decoding starts now, on arrival, while earlier requests may still be running inference.
      const first = prepare(msg.sources.slice(0, batchSize));
      first.catch(() => undefined);
      enqueue(msg.id, () => embedImages(msg.sources, first));
      break;
    }
    case 'pixels':
      enqueue(msg.id, () => embedPixels(msg.pixels, msg.count));
      break;
    case 'tokens':
      enqueue(msg.id, () => embedTokens(msg.ids, msg.count, msg.seq));
      break;
    case 'bind-detector':
      detectorSpec = msg.spec;
      break;
    case 'detect':
      enqueue(msg.id, () => detect(msg.frames));
      break;
    case 'crash':
      // What a segfault or a failed assertion in native code does: the process dies on the spot.
      process.abort();
  }
});
