import { readFileSync } from 'node:fs';
import type { BackendKind } from '../config/index.js';
import { configError } from '../config/parse.js';

/**
 * Monthly cost estimate from a price table. Defaults are the providers' public list prices
 * (USD; S3 Standard us-east-1, Supabase Pro overage); self-hosted stores cost nothing here.
 * Override with BHIV_PRICE_TABLE_FILE (JSON of the same shape).
 */
export interface Prices {
  storagePerGbMonth: number;
  egressPerGb: number;
  putPer1000: number;
  getPer1000: number;
}

export const DEFAULT_PRICES: Record<BackendKind, Prices> = {
  s3: { storagePerGbMonth: 0.023, egressPerGb: 0.09, putPer1000: 0.005, getPer1000: 0.0004 },
  supabase: { storagePerGbMonth: 0.021, egressPerGb: 0.09, putPer1000: 0, getPer1000: 0 },
  minio: { storagePerGbMonth: 0, egressPerGb: 0, putPer1000: 0, getPer1000: 0 },
  local: { storagePerGbMonth: 0, egressPerGb: 0, putPer1000: 0, getPer1000: 0 },
};

export function loadPrices(path: string | undefined): Record<BackendKind, Prices> {
  if (!path) return DEFAULT_PRICES;
  try {
    const custom = JSON.parse(readFileSync(path, 'utf8')) as Partial<Record<BackendKind, Partial<Prices>>>;
    const out = { ...DEFAULT_PRICES };
    for (const kind of Object.keys(out) as BackendKind[]) out[kind] = { ...out[kind], ...(custom[kind] ?? {}) };
    return out;
  } catch (err) {
    throw configError('BHIV_PRICE_TABLE_FILE', 'a readable JSON price table', `${path} (${(err as Error).message})`);
  }
}

const GB = 1024 ** 3;

/** Storage at today's size for a month, plus this process's traffic so far scaled to 30 days. */
export function estimateMonthlyCost(
  prices: Prices,
  usage: { storedBytes: number; egressBytes: number; puts: number; gets: number; sinceMs: number },
) {
  const elapsedDays = Math.max(usage.sinceMs / 86_400_000, 1 / 1440);
  const scale = 30 / elapsedDays;
  const storage = (usage.storedBytes / GB) * prices.storagePerGbMonth;
  const egress = (usage.egressBytes / GB) * prices.egressPerGb * scale;
  const requests = ((usage.puts * prices.putPer1000 + usage.gets * prices.getPer1000) / 1000) * scale;
  const round = (n: number) => Math.round(n * 10000) / 10000;
  return { currency: 'USD', storage: round(storage), egress: round(egress), requests: round(requests), total: round(storage + egress + requests), prices };
}
