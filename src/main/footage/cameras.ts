// Cameras and time. A camera is a folder of recordings, or a name read from the file names by a pattern
// the user writes, such as `{camera}_{date:YYYYMMDD}_{time:HHmmss}` for `cam03_20261204_081500.mp4`. A
// recording's wall-clock start comes from the pattern, else the container's creation time, else the user.
//
// The pattern language (users edit it, so it is parsed here, never handed to a regex engine as written):
//   literal text        matched as written, ignoring case; `{{` and `}}` stand for braces
//   {camera}            the camera's name: one or more characters
//   {any} or *          any text, skipped (one or more characters)
//   {date:FORMAT}       YYYY, YY, MM, DD and literal separators, e.g. {date:YYYY-MM-DD}
//   {time:FORMAT}       HH, mm, ss, SSS (milliseconds) and separators, e.g. {time:HH.mm.ss}
//   {datetime:FORMAT}   both at once, e.g. {datetime:YYYYMMDDHHmmss}
//   {epoch}             Unix time in seconds (10 digits) or milliseconds (13 digits)
// It matches the file name without its extension, unless the pattern itself ends in one (`….mp4`).
// File-name times are the recorder's local clock; the camera's UTC offset turns them into instants.
import { basename, dirname, extname, relative, sep } from 'node:path';
import { AppError } from '../errors';

export const MAX_PATTERN_LENGTH = 200;
const MAX_VARIABLE_FIELDS = 4;

type DateToken = 'YYYY' | 'YY' | 'MM' | 'DD' | 'HH' | 'mm' | 'ss' | 'SSS';
const TOKENS: readonly DateToken[] = ['YYYY', 'SSS', 'YY', 'MM', 'DD', 'HH', 'mm', 'ss'];
const DATE_TOKENS = new Set<DateToken>(['YYYY', 'YY', 'MM', 'DD']);
const TIME_TOKENS = new Set<DateToken>(['HH', 'mm', 'ss', 'SSS']);

type Part = { kind: 'token'; token: DateToken } | { kind: 'sep'; text: string };

type Segment =
  | { kind: 'literal'; text: string }
  | { kind: 'camera' }
  | { kind: 'any' }
  | { kind: 'epoch' }
  | { kind: 'format'; field: 'date' | 'time' | 'datetime'; format: string; parts: Part[] };

export interface CompiledPattern {
  source: string;
  segments: Segment[];
  /** Whether the pattern names the extension (then the whole file name is matched). */
  withExtension: boolean;
  hasCamera: boolean;
  hasDate: boolean;
  hasTime: boolean;
}

/** Local wall-clock time as read from a file name (no time zone). */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

export type PatternMatch =
  | {
      ok: true;
      file: string;
      camera: string | null;
      /** "2026-12-04T08:15:00.000", the recorder's local clock; null when the pattern reads no date. */
      localStart: string | null;
      /** An instant, when the pattern read a Unix time. */
      epochMs: number | null;
      /** What each field read, as written in the name. */
      fields: Record<string, string>;
    }
  | { ok: false; file: string; reason: string };

const describeSegment = (s: Segment): string => {
  switch (s.kind) {
    case 'literal':
      return `"${s.text}"`;
    case 'camera':
      return '{camera}';
    case 'any':
      return '{any}';
    case 'epoch':
      return '{epoch} (10 or 13 digits)';
    case 'format': {
      const digits = s.parts.reduce((n, p) => n + (p.kind === 'token' ? p.token.length : 0), 0);
      return `{${s.field}:${s.format}} (${digits} digits${s.parts.some((p) => p.kind === 'sep') ? ' with separators' : ''})`;
    }
  }
};

function parseFormat(field: 'date' | 'time' | 'datetime', format: string, problems: string[]): Part[] {
  const parts: Part[] = [];
  let i = 0;
  while (i < format.length) {
    const token = TOKENS.find((t) => format.startsWith(t, i));
    if (token) {
      parts.push({ kind: 'token', token });
      i += token.length;
      continue;
    }
    const ch = format[i]!;
    if (/[A-Za-z]/.test(ch)) {
      problems.push(
        `{${field}:${format}}: "${format.slice(i)}" is not a date/time token; use YYYY, YY, MM, DD, HH, mm, ss, SSS.`,
      );
      return parts;
    }
    const last = parts.at(-1);
    if (last?.kind === 'sep') last.text += ch;
    else parts.push({ kind: 'sep', text: ch });
    i++;
  }
  const tokens = parts.flatMap((p) => (p.kind === 'token' ? [p.token] : []));
  const allowed = field === 'date' ? DATE_TOKENS : field === 'time' ? TIME_TOKENS : null;
  for (const t of tokens) {
    if (allowed && !allowed.has(t))
      problems.push(`{${field}:${format}}: ${t} belongs in {${field === 'date' ? 'time' : 'date'}:…}.`);
  }
  if (new Set(tokens).size !== tokens.length) problems.push(`{${field}:${format}} names a token twice.`);
  if (
    field !== 'time' &&
    !(tokens.includes('YYYY') || tokens.includes('YY')) &&
    tokens.some((t) => DATE_TOKENS.has(t))
  )
    problems.push(`{${field}:${format}} has no year (YYYY or YY).`);
  if (
    field !== 'time' &&
    tokens.some((t) => DATE_TOKENS.has(t)) &&
    !(tokens.includes('MM') && tokens.includes('DD'))
  )
    problems.push(`{${field}:${format}} needs both MM and DD.`);
  if (field !== 'date' && tokens.some((t) => TIME_TOKENS.has(t)) && !tokens.includes('HH'))
    problems.push(`{${field}:${format}} needs HH (hours).`);
  if (tokens.length === 0) problems.push(`{${field}:${format}} has no tokens.`);
  return parts;
}

/** Parses a pattern; throws one AppError that lists every problem in it. */
export function compilePattern(source: string): CompiledPattern {
  const problems: string[] = [];
  if (source.length === 0) problems.push('The pattern is empty.');
  if (source.length > MAX_PATTERN_LENGTH)
    problems.push(`The pattern is ${source.length} characters long; at most ${MAX_PATTERN_LENGTH}.`);
  if (/[/\\]/.test(source))
    problems.push('The pattern has a / or \\: it matches file names, not paths (a camera can be a folder).');
  const segments: Segment[] = [];
  const literal = (text: string): void => {
    const last = segments.at(-1);
    if (last?.kind === 'literal') last.text += text;
    else segments.push({ kind: 'literal', text });
  };
  let i = 0;
  while (i < source.length && source.length <= MAX_PATTERN_LENGTH) {
    const ch = source[i]!;
    if (source.startsWith('{{', i) || source.startsWith('}}', i)) {
      literal(ch);
      i += 2;
    } else if (ch === '*') {
      segments.push({ kind: 'any' });
      i++;
    } else if (ch === '}') {
      problems.push(`Character ${i + 1}: "}" closes nothing (write }} for a literal brace).`);
      i++;
    } else if (ch === '{') {
      const close = source.indexOf('}', i);
      if (close < 0) {
        problems.push(`Character ${i + 1}: "{" is not closed (write {{ for a literal brace).`);
        break;
      }
      const body = source.slice(i + 1, close);
      const colon = body.indexOf(':');
      const name = colon < 0 ? body : body.slice(0, colon);
      const format = colon < 0 ? null : body.slice(colon + 1);
      if (name === 'camera' || name === 'any' || name === 'epoch') {
        if (format !== null) problems.push(`{${body}}: {${name}} takes no format.`);
        segments.push({ kind: name });
      } else if (name === 'date' || name === 'time' || name === 'datetime') {
        if (!format)
          problems.push(
            `{${name}} needs a format, e.g. {${name}:${name === 'time' ? 'HHmmss' : name === 'date' ? 'YYYYMMDD' : 'YYYYMMDDHHmmss'}}.`,
          );
        else
          segments.push({ kind: 'format', field: name, format, parts: parseFormat(name, format, problems) });
      } else {
        problems.push(
          `{${body}} is not a field; the fields are {camera}, {date:…}, {time:…}, {datetime:…}, {epoch}, {any}.`,
        );
      }
      i = close + 1;
    } else {
      literal(ch);
      i++;
    }
  }
  const count = (k: Segment['kind'], f?: string): number =>
    segments.filter((s) => s.kind === k && (f === undefined || (s.kind === 'format' && s.field === f)))
      .length;
  if (count('camera') > 1) problems.push('{camera} appears more than once.');
  if (
    count('epoch') > 1 ||
    count('format', 'date') > 1 ||
    count('format', 'time') > 1 ||
    count('format', 'datetime') > 1
  )
    problems.push('A date or time field appears more than once.');
  const hasDate = count('format', 'date') + count('format', 'datetime') > 0;
  const hasTime =
    count('format', 'time') > 0 ||
    segments.some(
      (s) =>
        s.kind === 'format' &&
        s.field === 'datetime' &&
        s.parts.some((p) => p.kind === 'token' && p.token === 'HH'),
    );
  if (count('format', 'datetime') && (count('format', 'date') || count('format', 'time')))
    problems.push('{datetime:…} already holds the date and time; drop {date:…}/{time:…}.');
  if (count('epoch') && (hasDate || hasTime))
    problems.push('{epoch} already is a time; drop the date/time fields.');
  if (count('format', 'time') && !hasDate) problems.push('A {time:…} needs a {date:…} in the same pattern.');
  const variable = count('camera') + count('any');
  if (variable > MAX_VARIABLE_FIELDS)
    problems.push(`At most ${MAX_VARIABLE_FIELDS} {camera}/{any}/* fields; this pattern has ${variable}.`);
  segments.forEach((s, k) => {
    const next = segments[k + 1];
    if ((s.kind === 'camera' || s.kind === 'any') && (next?.kind === 'camera' || next?.kind === 'any'))
      problems.push(
        `${describeSegment(s)} is followed directly by ${describeSegment(next)}: nothing says where one ends.`,
      );
  });
  if (problems.length) {
    throw new AppError(
      'bad_request',
      `The camera pattern "${source.slice(0, MAX_PATTERN_LENGTH)}" cannot be used:\n${problems.map((p) => `- ${p}`).join('\n')}`,
    );
  }
  const lastLit = segments.at(-1);
  return {
    source,
    segments,
    withExtension: lastLit?.kind === 'literal' && /\.[A-Za-z0-9]{1,5}$/.test(lastLit.text),
    hasCamera: count('camera') === 1,
    hasDate: hasDate || count('epoch') > 0,
    hasTime: hasTime || count('epoch') > 0,
  };
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

interface Captures {
  camera?: string;
  values: Partial<Record<DateToken, number>>;
  epochMs?: number;
  fields: Record<string, string>;
}

/** Matches a format field at `pos`; returns its end and values, or the reason it does not fit. */
function matchFormat(
  s: Extract<Segment, { kind: 'format' }>,
  name: string,
  pos: number,
): { end: number; values: Partial<Record<DateToken, number>> } | { reason: string } {
  let p = pos;
  const values: Partial<Record<DateToken, number>> = {};
  for (const part of s.parts) {
    if (part.kind === 'sep') {
      if (name.slice(p, p + part.text.length) !== part.text)
        return { reason: `expected "${part.text}" inside ${describeSegment(s)}` };
      p += part.text.length;
      continue;
    }
    const digits = name.slice(p, p + part.token.length);
    if (!/^\d+$/.test(digits) || digits.length !== part.token.length)
      return { reason: `expected ${part.token.length} digits for ${part.token} of ${describeSegment(s)}` };
    values[part.token] = Number(digits);
    p += part.token.length;
  }
  const { MM, DD, HH, mm, ss } = values;
  const year = values.YYYY ?? (values.YY !== undefined ? 2000 + values.YY : undefined);
  if (MM !== undefined && (MM < 1 || MM > 12)) return { reason: `month ${MM} is not a month` };
  if (DD !== undefined && MM !== undefined) {
    const max = MM === 2 && year !== undefined && !isLeap(year) ? 28 : DAYS_IN_MONTH[MM - 1]!;
    if (DD < 1 || DD > max) return { reason: `day ${DD} does not exist in month ${MM}` };
  }
  if (HH !== undefined && HH > 23) return { reason: `hour ${HH} is not an hour` };
  if (mm !== undefined && mm > 59) return { reason: `minute ${mm} is not a minute` };
  if (ss !== undefined && ss > 60) return { reason: `second ${ss} is not a second` };
  return { end: p, values };
}

/** Matches one file name (a base name) against a compiled pattern; says where and why it does not match. */
export function matchFileName(pattern: CompiledPattern, fileName: string): PatternMatch {
  const file = fileName;
  const name = pattern.withExtension
    ? fileName
    : fileName.slice(0, fileName.length - extname(fileName).length);
  const lower = name.toLowerCase();
  const segs = pattern.segments;
  const failed = new Set<number>();
  // The failure to report: the one that got deepest into the pattern, at the earliest place in the name
  // (the alignment with the shortest variable fields), so "month 13" wins over "no _ at the end".
  let deepest = { seg: -1, pos: 0, reason: '' };
  const fail = (seg: number, pos: number, reason: string): null => {
    if (seg > deepest.seg || (seg === deepest.seg && pos < deepest.pos)) deepest = { seg, pos, reason };
    return null;
  };
  // Backtracking over the few variable-length fields, memoised on (segment, position): linear in the
  // name's length per field, whatever the user writes.
  const go = (k: number, pos: number): Captures | null => {
    const key = k * (name.length + 1) + pos;
    if (failed.has(key)) return null;
    const r = step(k, pos);
    if (!r) failed.add(key);
    return r;
  };
  const step = (k: number, pos: number): Captures | null => {
    const s = segs[k];
    if (!s)
      return pos === name.length ? { values: {}, fields: {} } : fail(k, pos, 'expected the end of the name');
    switch (s.kind) {
      case 'literal': {
        if (lower.slice(pos, pos + s.text.length) !== s.text.toLowerCase())
          return fail(k, pos, `expected ${describeSegment(s)}`);
        return go(k + 1, pos + s.text.length);
      }
      case 'camera':
      case 'any': {
        for (let end = pos + 1; end <= name.length; end++) {
          const rest = go(k + 1, end);
          if (rest) {
            const text = name.slice(pos, end);
            return s.kind === 'camera'
              ? { ...rest, camera: text, fields: { camera: text, ...rest.fields } }
              : rest;
          }
        }
        // Nothing after this field fits anywhere: say so from where the field starts.
        if (deepest.seg === k + 1 && segs[k + 1]?.kind === 'literal') deepest.seg = -1;
        return fail(
          k + 1,
          pos,
          `expected ${describeSegment(s)} followed by ${segs[k + 1] ? describeSegment(segs[k + 1]!) : 'the end'}`,
        );
      }
      case 'epoch': {
        const digits = /^\d+/.exec(name.slice(pos))?.[0] ?? '';
        for (const len of [13, 10]) {
          if (digits.length < len) continue;
          const rest = go(k + 1, pos + len);
          if (rest) {
            const text = name.slice(pos, pos + len);
            return {
              ...rest,
              epochMs: len === 13 ? Number(text) : Number(text) * 1000,
              fields: { epoch: text, ...rest.fields },
            };
          }
        }
        return fail(k, pos, `expected ${describeSegment(s)}`);
      }
      case 'format': {
        const m = matchFormat(s, name, pos);
        if ('reason' in m) return fail(k, pos, m.reason);
        const rest = go(k + 1, m.end);
        if (!rest) return null;
        return {
          ...rest,
          values: { ...rest.values, ...m.values },
          fields: { [s.field]: name.slice(pos, m.end), ...rest.fields },
        };
      }
    }
  };
  const c = go(0, 0);
  if (!c) {
    const at = deepest.pos;
    return {
      ok: false,
      file,
      reason: `does not match at character ${at + 1} ("${name.slice(at, at + 16)}${name.length - at > 16 ? '…' : ''}"): ${deepest.reason}.`,
    };
  }
  const v = c.values;
  const year = v.YYYY ?? (v.YY !== undefined ? 2000 + v.YY : undefined);
  const localStart =
    year !== undefined && v.MM !== undefined && v.DD !== undefined
      ? formatLocal({
          year,
          month: v.MM,
          day: v.DD,
          hour: v.HH ?? 0,
          minute: v.mm ?? 0,
          second: v.ss ?? 0,
          millisecond: v.SSS ?? 0,
        })
      : null;
  return {
    ok: true,
    file,
    camera: c.camera ?? null,
    localStart,
    epochMs: c.epochMs ?? null,
    fields: c.fields,
  };
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
export const formatLocal = (t: LocalTime): string =>
  `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}.${pad(t.millisecond, 3)}`;

/**
 * The preview a pattern editor shows: what each file name gives, or why it does not match. Throws the
 * pattern's own problems (all of them) before looking at any file.
 */
export function previewPattern(source: string, fileNames: readonly string[]): PatternMatch[] {
  const p = compilePattern(source);
  return fileNames.map((f) => matchFileName(p, basename(f)));
}

/** A camera's clock: a fixed offset from UTC in minutes, or this computer's time zone (with its DST rules). */
export type UtcOffset = number | 'system';

/** The instant a local wall-clock time stands for on a camera whose clock runs at `offset`. */
export function localToEpochMs(local: string, offset: UtcOffset): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,3}))?$/.exec(local);
  if (!m) throw new AppError('bad_request', `"${local}" is not a local time like 2026-12-04T08:15:00.`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Number((m[7] ?? '0').padEnd(3, '0'));
  if (offset === 'system') return new Date(y, mo - 1, d, h, mi, s, ms).getTime();
  return Date.UTC(y, mo - 1, d, h, mi, s, ms) - offset * 60_000;
}

export type StartSource = 'file-name' | 'container' | 'user';

export interface RecordingStart {
  epochMs: number;
  source: StartSource;
  /** What it was read from, for display: the name's field, the creation_time tag, the user's entry. */
  from: string;
}

/**
 * A recording's wall-clock start: from the file name (pattern), else the container's creation_time, else
 * what the user entered; null when none says (the recording then has video times but no clock times).
 * Container times are UTC by the MP4 standard, though many recorders write their local clock there: a
 * user-entered start is how to correct one.
 */
export function recordingStart(input: {
  match?: PatternMatch | null;
  creationTime?: string | null;
  /** ISO 8601 with a zone ("2026-12-04T08:15:00Z", "…+01:00"), or a local time read on the camera's clock. */
  user?: string | null;
  offset: UtcOffset;
}): RecordingStart | null {
  const m = input.match;
  if (m?.ok && m.epochMs !== null)
    return { epochMs: m.epochMs, source: 'file-name', from: m.fields.epoch ?? '' };
  if (m?.ok && m.localStart !== null)
    return { epochMs: localToEpochMs(m.localStart, input.offset), source: 'file-name', from: m.localStart };
  if (input.creationTime) {
    const t = Date.parse(input.creationTime);
    // 1970 or 1904 (the MP4 epoch): a recorder that never set its clock.
    if (Number.isFinite(t) && t > Date.UTC(1990, 0, 1))
      return { epochMs: t, source: 'container', from: input.creationTime };
  }
  if (input.user) {
    const zoned = /(Z|[+-]\d\d:?\d\d)$/.test(input.user);
    const t = zoned ? Date.parse(input.user) : localToEpochMs(input.user, input.offset);
    if (!Number.isFinite(t))
      throw new AppError('bad_request', `"${input.user}" is not a date and time like 2026-12-04T08:15:00.`);
    return { epochMs: t, source: 'user', from: input.user };
  }
  return null;
}

export interface CameraOf {
  name: string;
  source: 'file-name' | 'folder';
}

/**
 * The camera a recording belongs to: the pattern's {camera} when it reads one, else the folder it is in
 * (relative to the footage root, with / between levels), else the root folder's own name.
 */
export function cameraOf(root: string, file: string, match?: PatternMatch | null): CameraOf {
  if (match?.ok && match.camera) return { name: match.camera, source: 'file-name' };
  const rel = relative(root, dirname(file));
  if (rel === '' || rel.startsWith('..')) return { name: basename(root), source: 'folder' };
  return { name: rel.split(sep).join('/'), source: 'folder' };
}
