import type { ParseArgsConfig } from 'node:util';
import { AppError } from '../errors';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: OptionSpec;
  /** Resolves to the exit code. */
  run(values: OptionValues, positionals: string[], io: CliIo): Promise<number>;
}

/** Options every command accepts. */
export const commonOptions: OptionSpec = {
  workspace: { type: 'string', short: 'w' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export function stringOption(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function requiredOption(values: OptionValues, name: string): string {
  const v = stringOption(values, name);
  if (v === undefined) throw new AppError('bad_request', `--${name} is required.`);
  return v;
}

/** `v` when it is one of `allowed` (undefined stays undefined); `flag` names the option in the refusal. */
export function oneOf<T extends string>(
  flag: string,
  v: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw new AppError('bad_request', `--${flag} must be one of ${allowed.join(', ')}; got "${v}".`);
  return v as T;
}

export function intOption(values: OptionValues, name: string, fallback: number): number {
  const v = stringOption(values, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n))
    throw new AppError('bad_request', `--${name} must be a whole number, got "${v}".`);
  return n;
}
