/**
 * A small protobuf wire-format reader and writer: just what the ONNX codec needs (varints, fixed32/64,
 * length-delimited fields, unknown-field capture). Large byte fields are returned as views into the input
 * and written by reference, so a 500 MB model is not copied field by field.
 */
import { AppError } from '../../errors';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

const malformed = (what: string): AppError =>
  new AppError(
    'bad_request',
    `The ONNX file is not a valid protobuf (${what}). Is it truncated or not an .onnx model?`,
  );

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

export class Reader {
  pos: number;
  private readonly view: DataView;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** An unsigned varint: a number while it fits in 49 bits (every tag, length and ordinary value), else a bigint. */
  varint(): number | bigint {
    const start = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) throw malformed('varint runs past the end');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    this.pos = start;
    let big = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw malformed('varint runs past the end');
      const b = this.buf[this.pos++]!;
      big |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, big);
      shift += 7n;
    }
    throw malformed('varint longer than 10 bytes');
  }

  uint32(): number {
    const v = this.varint();
    if (typeof v !== 'number' || v > 0xffffffff) throw malformed('length or tag too large');
    return v;
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) throw malformed('fixed32 runs past the end');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  fixed64(): number {
    if (this.pos + 8 > this.end) throw malformed('fixed64 runs past the end');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A length-delimited payload as a view into the input (no copy). */
  bytes(): Uint8Array {
    const len = this.uint32();
    if (this.pos + len > this.end) throw malformed('length-delimited field runs past the end');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  /** Skips the payload of a field whose tag was just read. */
  skip(wireType: number, fieldNo: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.pos += 8;
        break;
      case WIRE_BYTES:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.pos += 4;
        break;
      case WIRE_START_GROUP:
        for (;;) {
          const tag = this.uint32();
          if ((tag & 7) === WIRE_END_GROUP) {
            if (tag >>> 3 !== fieldNo) throw malformed('mismatched group end');
            return;
          }
          this.skip(tag & 7, tag >>> 3);
        }
      default:
        throw malformed(`unknown wire type ${wireType}`);
    }
    if (this.pos > this.end) throw malformed('fixed field runs past the end');
  }
}

/** Signed 64-bit interpretation of a varint, as a number; refuses values a double cannot hold exactly. */
export function toInt64Number(v: number | bigint): number {
  if (typeof v === 'number') return v;
  const s = BigInt.asIntN(64, v);
  if (s > BigInt(Number.MAX_SAFE_INTEGER) || s < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new AppError(
      'bad_request',
      `The ONNX file holds the integer ${s} where a size was expected: it is too large.`,
    );
  }
  return Number(s);
}

export const toInt64Big = (v: number | bigint): bigint => BigInt.asIntN(64, BigInt(v));
export const toUint64Big = (v: number | bigint): bigint => BigInt.asUintN(64, BigInt(v));
export const toInt32 = (v: number | bigint): number =>
  typeof v === 'number' ? (v > 0x7fffffff ? v - 0x100000000 : v) : Number(BigInt.asIntN(32, v));

const BIG_CHUNK = 1024;

export class Writer {
  private readonly chunks: Uint8Array[] = [];
  private buf = new Uint8Array(256);
  private pos = 0;
  private flushed = 0;

  get length(): number {
    return this.flushed + this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private flush(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.buf.subarray(0, this.pos));
    this.flushed += this.pos;
    this.buf = new Uint8Array(256);
    this.pos = 0;
  }

  tag(fieldNo: number, wireType: number): void {
    this.varint(fieldNo * 8 + wireType);
  }

  varint(value: number | bigint): void {
    this.ensure(10);
    if (typeof value === 'number' && value >= 0 && Number.isSafeInteger(value)) {
      let n = value;
      while (n >= 128) {
        this.buf[this.pos++] = (n % 128) | 128;
        n = Math.floor(n / 128);
      }
      this.buf[this.pos++] = n;
      return;
    }
    let big = BigInt.asUintN(64, BigInt(value));
    while (big >= 128n) {
      this.buf[this.pos++] = Number(big & 127n) | 128;
      big >>= 7n;
    }
    this.buf[this.pos++] = Number(big);
  }

  float32(v: number): void {
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  float64(v: number): void {
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** Raw bytes with no length prefix; big ones are kept by reference. */
  raw(bytes: Uint8Array): void {
    if (bytes.length >= BIG_CHUNK) {
      this.flush();
      this.chunks.push(bytes);
      this.flushed += bytes.length;
      return;
    }
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  bytes(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.raw(bytes);
  }

  string(s: string): void {
    this.bytes(utf8Encoder.encode(s));
  }

  /** A nested message or packed run, written by a callback into its own writer and length-prefixed here. */
  nested(write: (w: Writer) => void): void {
    const inner = new Writer();
    write(inner);
    this.varint(inner.length);
    for (const chunk of inner.finishChunks()) this.raw(chunk);
  }

  finishChunks(): Uint8Array[] {
    this.flush();
    return this.chunks;
  }

  finish(): Uint8Array {
    const chunks = this.finishChunks();
    if (chunks.length === 1) return chunks[0]!;
    const out = new Uint8Array(this.flushed);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
