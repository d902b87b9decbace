import { StorageError } from '../core/errors.js';

/** Small readers for environment values; each failure names the variable and what it expected. */
export type Env = Record<string, string | undefined>;

export function configError(variable: string, expected: string, got?: string): StorageError {
  const shown = got === undefined ? 'it is missing' : `got ${JSON.stringify(got.length > 60 ? `${got.slice(0, 60)}…` : got)}`;
  return new StorageError('ConfigInvalid', `${variable}: expected ${expected}, ${shown}`, { details: { variable } });
}

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function readString(env: Env, name: string, fallback?: string): string | undefined {
  return raw(env, name) ?? fallback;
}

export function requireString(env: Env, name: string, expected = 'a value'): string {
  const value = raw(env, name);
  if (value === undefined) throw configError(name, expected);
  return value;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export function readBool(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const lower = value.toLowerCase();
  if (TRUE.has(lower)) return true;
  if (FALSE.has(lower)) return false;
  throw configError(name, 'true or false', value);
}

export function readNumber(env: Env, name: string, fallback: number, range: { min: number; max: number; integer?: boolean }): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  const kind = range.integer ? 'an integer' : 'a number';
  if (!Number.isFinite(n) || (range.integer && !Number.isInteger(n)) || n < range.min || n > range.max) {
    throw configError(name, `${kind} from ${range.min} to ${range.max}`, value);
  }
  return n;
}

export function readChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback?: T): T | undefined {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const lower = value.toLowerCase() as T;
  if (!choices.includes(lower)) throw configError(name, `one of ${choices.join(', ')}`, value);
  return lower;
}

export function readUrl(env: Env, name: string, protocols: readonly string[] = ['http:', 'https:']): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(name, `a URL (${protocols.join(' or ')})`, value);
  }
  if (!protocols.includes(url.protocol)) throw configError(name, `a URL (${protocols.join(' or ')})`, value);
  return value.replace(/\/+$/, '');
}
