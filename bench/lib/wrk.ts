/** Runs `wrk` (many small requests over keep-alive connections) and reads its summary. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findCommand } from './commands.js';

const execFileAsync = promisify(execFile);

export interface WrkOptions {
  threads?: number;
  connections?: number;
  /** wrk's duration syntax: `5s`, `1m`. */
  duration?: string;
  /** Extra request headers, e.g. `{ authorization: 'Bearer …' }`. */
  headers?: Record<string, string>;
  /** Accept non-2xx/3xx answers and socket errors (default false: they make the figure meaningless). */
  allowErrors?: boolean;
}

export interface WrkResult {
  requestsPerSec: number;
  /** Bytes per second read, as wrk reports it. */
  transferPerSec: number;
  requests: number;
  /** Mean latency in milliseconds. */
  latencyMs: number;
  non2xx: number;
  socketErrors: number;
  raw: string;
}

export async function wrkMissing(): Promise<string | undefined> {
  return (await findCommand('wrk')) ? undefined : 'wrk not installed (run: bash scripts/provision-nginx.sh)';
}

const UNITS: Record<string, number> = { '': 1, B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, k: 1e3, M: 1e6 };
const TIME: Record<string, number> = { us: 1e-3, ms: 1, s: 1000, m: 60_000 };

function field(raw: string, re: RegExp): RegExpMatchArray {
  const match = raw.match(re);
  if (!match) throw new Error(`could not read ${re} from wrk output:\n${raw}`);
  return match;
}

/** Parses wrk 4's text summary. */
export function parseWrk(raw: string): WrkResult {
  const rps = field(raw, /Requests\/sec:\s+([\d.]+)/);
  const transfer = field(raw, /Transfer\/sec:\s+([\d.]+)([KMG]?B)/);
  const total = field(raw, /(\d+) requests in/);
  const latency = field(raw, /Latency\s+([\d.]+)(us|ms|s|m)\b/);
  const non2xx = raw.match(/Non-2xx or 3xx responses:\s+(\d+)/);
  const socket = raw.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    requestsPerSec: Number(rps[1]),
    transferPerSec: Number(transfer[1]) * (UNITS[transfer[2] as string] ?? 1),
    requests: Number(total[1]),
    latencyMs: Number(latency[1]) * (TIME[latency[2] as string] ?? 1),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
    raw,
  };
}

/** `wrk -t2 -c32 -d5s URL` by default (two cores here: more threads only add contention). */
export async function runWrk(url: string, opts: WrkOptions = {}): Promise<WrkResult> {
  const args = [`-t${opts.threads ?? 2}`, `-c${opts.connections ?? 32}`, `-d${opts.duration ?? '5s'}`, '--latency'];
  for (const [name, value] of Object.entries(opts.headers ?? {})) args.push('-H', `${name}: ${value}`);
  const { stdout } = await execFileAsync('wrk', [...args, url], { maxBuffer: 1 << 20 });
  const result = parseWrk(stdout);
  if (!opts.allowErrors && (result.non2xx > 0 || result.socketErrors > 0)) {
    throw new Error(`wrk ${url}: ${result.non2xx} non-2xx answers, ${result.socketErrors} socket errors; the figure would be meaningless`);
  }
  return result;
}
