// The oracle's Batch API, after OpenAI's: POST /v1/files (a JSONL of requests, multipart upload),
// POST /v1/batches (create), GET /v1/batches/{id} (poll), GET /v1/batches (list), GET /v1/files/{id}/content
// (the input, output and error files). A batch completes `completionDelayMs` after it was created; a share
// of its lines can fail (`errorRate`, a 500 in the output file, like a server error on one request), and
// batches can expire (`expireFirst`: the first N batches; half their lines are answered, the rest go to the
// error file as `batch_expired`, as OpenAI does at the end of the completion window).
import { createHash } from 'node:crypto';

export interface OracleBatchOptions {
  completionDelayMs?: number;
  /** Share of lines answered with an error instead of a completion (drawn from the line's custom_id). */
  errorRate?: number;
  /** The first N batches created expire, half-done. */
  expireFirst?: number;
}

export interface OracleBatchStats {
  files: number;
  /** Batches created (a client that never submits twice creates exactly as many as it needs). */
  batches: number;
  linesAnswered: number;
  linesFailed: number;
  linesExpired: number;
  /** custom_ids submitted more than once across batches (a resubmission of a line that already succeeded). */
  resubmittedAnswered: number;
}

interface StoredFile {
  id: string;
  bytes: Buffer;
  filename: string;
  purpose: string;
  created: number;
}

interface StoredBatch {
  id: string;
  input_file_id: string;
  endpoint: string;
  completion_window: string;
  metadata: Record<string, string> | null;
  status: 'validating' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'failed' | 'cancelled';
  created_at: number;
  dueAt: number;
  output_file_id: string | null;
  error_file_id: string | null;
  request_counts: { total: number; completed: number; failed: number };
  expire: boolean;
  finishing: Promise<void> | null;
}

export class BatchHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The Batch API state of one oracle process; `complete` answers one chat body (as the chat route does). */
export function createBatchApi(
  opts: OracleBatchOptions,
  complete: (raw: string) => Promise<unknown>,
): {
  stats: OracleBatchStats;
  uploadFile(contentType: string, body: Buffer): unknown;
  fileContent(id: string): Buffer;
  createBatch(raw: string): unknown;
  getBatch(id: string): Promise<unknown>;
  listBatches(): Promise<unknown>;
} {
  const delay = Math.max(0, opts.completionDelayMs ?? 0);
  const errorRate = opts.errorRate ?? 0;
  let expireLeft = opts.expireFirst ?? 0;
  const files = new Map<string, StoredFile>();
  const batches = new Map<string, StoredBatch>();
  const answeredIds = new Set<string>();
  const stats: OracleBatchStats = {
    files: 0,
    batches: 0,
    linesAnswered: 0,
    linesFailed: 0,
    linesExpired: 0,
    resubmittedAnswered: 0,
  };
  let n = 0;
  const newId = (prefix: string): string => `${prefix}-oracle-${++n}`;
  const addFile = (bytes: Buffer, filename: string, purpose: string): StoredFile => {
    const f = { id: newId('file'), bytes, filename, purpose, created: Math.floor(Date.now() / 1000) };
    files.set(f.id, f);
    stats.files++;
    return f;
  };
  const fileObject = (f: StoredFile): unknown => ({
    id: f.id,
    object: 'file',
    bytes: f.bytes.length,
    created_at: f.created,
    filename: f.filename,
    purpose: f.purpose,
    status: 'processed',
  });
  // Whether a line fails: a pure function of its custom_id and the try, so a retry of it can succeed.
  const fails = (customId: string, batchId: string): boolean => {
    if (errorRate <= 0) return false;
    const h = createHash('sha256').update(customId).update(batchId).digest();
    return h.readUInt32BE(0) / 2 ** 32 < errorRate;
  };

  const finish = async (b: StoredBatch): Promise<void> => {
    const input = files.get(b.input_file_id)!.bytes.toString('utf8');
    const lines = input.split('\n').filter((l) => l.trim() !== '');
    const out: string[] = [];
    const errs: string[] = [];
    let i = 0;
    for (const line of lines) {
      i++;
      const req = JSON.parse(line) as { custom_id: string; body: unknown };
      if (b.expire && i > Math.ceil(lines.length / 2)) {
        stats.linesExpired++;
        errs.push(
          JSON.stringify({
            id: `batch_req_${b.id}_${i}`,
            custom_id: req.custom_id,
            response: null,
            error: {
              code: 'batch_expired',
              message: 'This request could not be executed before the completion window expired.',
            },
          }),
        );
        continue;
      }
      if (fails(req.custom_id, b.id)) {
        stats.linesFailed++;
        errs.push(
          JSON.stringify({
            id: `batch_req_${b.id}_${i}`,
            custom_id: req.custom_id,
            response: {
              status_code: 500,
              request_id: `req_${i}`,
              body: {
                error: {
                  message: 'The oracle failed this request (injected batch fault).',
                  type: 'server_error',
                },
              },
            },
            error: null,
          }),
        );
        continue;
      }
      try {
        const body = await complete(JSON.stringify(req.body));
        if (answeredIds.has(req.custom_id)) stats.resubmittedAnswered++;
        answeredIds.add(req.custom_id);
        stats.linesAnswered++;
        out.push(
          JSON.stringify({
            id: `batch_req_${b.id}_${i}`,
            custom_id: req.custom_id,
            response: { status_code: 200, request_id: `req_${i}`, body },
            error: null,
          }),
        );
      } catch (err) {
        const e = err as { status?: number; message?: string };
        stats.linesFailed++;
        errs.push(
          JSON.stringify({
            id: `batch_req_${b.id}_${i}`,
            custom_id: req.custom_id,
            response: {
              status_code: e.status ?? 500,
              request_id: `req_${i}`,
              body: { error: { message: e.message } },
            },
            error: null,
          }),
        );
      }
    }
    if (out.length > 0)
      b.output_file_id = addFile(Buffer.from(`${out.join('\n')}\n`), 'output.jsonl', 'batch_output').id;
    if (errs.length > 0)
      b.error_file_id = addFile(Buffer.from(`${errs.join('\n')}\n`), 'errors.jsonl', 'batch_output').id;
    b.request_counts = { total: lines.length, completed: out.length, failed: errs.length };
    b.status = b.expire ? 'expired' : 'completed';
  };

  const view = async (b: StoredBatch): Promise<unknown> => {
    if (b.status === 'validating') b.status = 'in_progress';
    if (b.status === 'in_progress' && Date.now() >= b.dueAt) {
      b.status = 'finalizing';
      b.finishing ??= finish(b);
    }
    if (b.status === 'finalizing' && b.finishing) await b.finishing;
    return {
      id: b.id,
      object: 'batch',
      endpoint: b.endpoint,
      errors: null,
      input_file_id: b.input_file_id,
      completion_window: b.completion_window,
      status: b.status,
      output_file_id: b.output_file_id,
      error_file_id: b.error_file_id,
      created_at: b.created_at,
      request_counts: b.request_counts,
      metadata: b.metadata,
    };
  };

  return {
    stats,
    uploadFile(contentType, body) {
      const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
      if (!m)
        throw new BatchHttpError(400, 'Upload the file as multipart/form-data with "file" and "purpose".');
      const parts = parseMultipart(body, m[1] ?? m[2]!);
      const file = parts.find((p) => p.name === 'file');
      const purpose = parts.find((p) => p.name === 'purpose')?.data.toString('utf8') ?? '';
      if (!file) throw new BatchHttpError(400, 'The upload has no "file" part.');
      if (purpose !== 'batch')
        throw new BatchHttpError(400, `The oracle takes files with purpose "batch", not "${purpose}".`);
      return fileObject(addFile(file.data, file.filename ?? 'input.jsonl', purpose));
    },
    fileContent(id) {
      const f = files.get(id);
      if (!f) throw new BatchHttpError(404, `No such file: ${id}`);
      return f.bytes;
    },
    createBatch(raw) {
      const body = JSON.parse(raw) as {
        input_file_id?: string;
        endpoint?: string;
        completion_window?: string;
        metadata?: Record<string, string>;
      };
      const input = body.input_file_id ? files.get(body.input_file_id) : undefined;
      if (!input) throw new BatchHttpError(400, `No such input file: ${String(body.input_file_id)}`);
      if (body.endpoint !== '/v1/chat/completions')
        throw new BatchHttpError(400, 'The oracle batches /v1/chat/completions only.');
      const lines = input.bytes
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== '').length;
      const b: StoredBatch = {
        id: newId('batch'),
        input_file_id: input.id,
        endpoint: body.endpoint,
        completion_window: body.completion_window ?? '24h',
        metadata: body.metadata ?? null,
        status: 'validating',
        created_at: Math.floor(Date.now() / 1000),
        dueAt: Date.now() + delay,
        output_file_id: null,
        error_file_id: null,
        request_counts: { total: lines, completed: 0, failed: 0 },
        expire: expireLeft > 0,
        finishing: null,
      };
      if (expireLeft > 0) expireLeft--;
      batches.set(b.id, b);
      stats.batches++;
      return view(b);
    },
    async getBatch(id) {
      const b = batches.get(id);
      if (!b) throw new BatchHttpError(404, `No such batch: ${id}`);
      return view(b);
    },
    async listBatches() {
      const data = await Promise.all([...batches.values()].reverse().map(view));
      return { object: 'list', data, has_more: false, first_id: null, last_id: null };
    },
  };
}

function parseMultipart(body: Buffer, boundary: string): { name: string; filename?: string; data: Buffer }[] {
  const delim = Buffer.from(`--${boundary}`);
  const out: { name: string; filename?: string; data: Buffer }[] = [];
  let at = body.indexOf(delim);
  while (at >= 0) {
    const start = at + delim.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delim, start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next - 2); // after CRLF, before CRLF
    const headEnd = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, headEnd).toString('utf8');
    const name = /name="([^"]*)"/i.exec(head)?.[1] ?? '';
    const filename = /filename="([^"]*)"/i.exec(head)?.[1];
    out.push({ name, filename, data: part.subarray(headEnd + 4) });
    at = next;
  }
  return out;
}
