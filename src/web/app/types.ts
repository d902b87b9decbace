/** The shapes of the service's JSON answers that the dashboard reads (see /openapi.json). */
export interface StoredObject {
  id: string;
  key: string;
  segment: string;
  filename: string;
  size: number;
  contentType: string;
  etag: string;
  sha256: string | null;
  owner: string | null;
  createdAt: string;
  updatedAt: string;
  url: string;
}

export interface ListPage {
  segment: string;
  items: StoredObject[];
  cursor?: string;
}

export interface Counts {
  count: number;
  bytes: number;
}

export interface Stats {
  segments: Record<string, Counts>;
  total: Counts;
}

export interface SegmentInfo {
  name: string;
  public: boolean;
  allowedTypes: string[] | null;
  maxBytes: number;
  retentionDays: number | null;
}

export interface Health {
  ok: boolean;
  latencyMs: number;
  error?: { code: string; message: string };
}

export interface CircuitStatus {
  state: string;
  since?: string;
  opens?: number;
  failuresToOpen?: number;
  halfOpenAfterMs?: number;
}

export interface FallbackStatus {
  enabled: boolean;
  state: string;
  kind?: string;
  pending?: number | null;
  failed?: number | null;
  oldestPendingAt?: string | null;
  lastReplayAt?: string | null;
}

export interface Status {
  version: string;
  backend: { kind: string; implementation: string; health: Health; capabilities?: Record<string, boolean> };
  catalog: { dialect: string; ok: boolean };
  circuit: CircuitStatus | null;
  fallback: FallbackStatus | null;
  encryption?: { atRest?: string };
  /** Every segment's rules, for every caller. */
  segments?: SegmentInfo[];
  config?: { segments?: SegmentInfo[]; maxUploadBytes?: number };
}

export interface OperationSummary {
  count: number;
  successRate: number;
  failureRate: number;
  bytes: number;
  throughputMiBps: number | null;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  errors: Record<string, number>;
}

export type BackendOperations = Record<string, Record<string, OperationSummary>>;

export interface Performance {
  since: string;
  backend: string;
  backends: BackendOperations;
  monthlyCostEstimate?: { currency: string; total: number; storage: number; egress: number; requests: number };
}

export interface UploadGrant {
  token: string;
  uploadUrl: string;
  expiresAt: string;
  key: string;
  contentType: string;
  maxBytes: number;
}
