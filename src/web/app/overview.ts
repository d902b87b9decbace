import type { Api } from './api.js';
import { barChart, sparkline } from './charts.js';
import { h } from './dom.js';
import { messageOf } from './feedback.js';
import { formatBytes, formatCount, formatMs, formatOpsRate, formatPercent, formatRate, formatRelative } from './format.js';
import { MetricsHistory, type Sample } from './metrics-history.js';
import type { Performance, Stats, Status } from './types.js';

type Tone = 'ok' | 'warn' | 'bad' | 'muted';

function badge(text: string, tone: Tone): HTMLElement {
  return h('span', { class: `badge badge-${tone}` }, text);
}

function card(title: string, body: (Node | string | null)[], opts: { id?: string; wide?: boolean } = {}): HTMLElement {
  return h('section', { class: `card${opts.wide ? ' card-wide' : ''}`, id: opts.id, 'aria-label': title }, h('h3', { class: 'card-title' }, title), ...body);
}

function facts(rows: [string, Node | string][]): HTMLElement {
  return h('dl', { class: 'facts' }, ...rows.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
}

function statusCards(status: Status): HTMLElement[] {
  const health = status.backend.health;
  const backend = card('Backend', [
    h('p', { class: 'card-headline' }, status.backend.kind, ' ', badge(health.ok ? 'healthy' : 'unreachable', health.ok ? 'ok' : 'bad')),
    facts([
      ['Implementation', status.backend.implementation],
      ['Health check', formatMs(health.latencyMs)],
      ...(health.error ? ([['Error', `${health.error.code}: ${health.error.message}`]] as [string, string][]) : []),
      ['Encryption at rest', status.encryption?.atRest ?? 'not reported'],
    ]),
  ], { id: 'card-backend' });

  const circuit = status.circuit;
  const circuitTone: Tone = !circuit ? 'muted' : circuit.state === 'closed' ? 'ok' : circuit.state === 'open' ? 'bad' : 'warn';
  const breaker = card('Circuit breaker', [
    h('p', { class: 'card-headline' }, badge(circuit ? circuit.state : 'not configured', circuitTone)),
    circuit
      ? facts([
          ['Since', circuit.since ? formatRelative(new Date(circuit.since)) : '–'],
          ['Times opened', String(circuit.opens ?? 0)],
          ['Opens after', circuit.failuresToOpen !== undefined ? `${circuit.failuresToOpen} failures` : '–'],
        ])
      : null,
  ], { id: 'card-circuit' });

  const fb = status.fallback;
  const enabled = fb?.enabled === true;
  const fallbackTone: Tone = !enabled ? 'muted' : (fb.failed ?? 0) > 0 ? 'bad' : (fb.pending ?? 0) > 0 ? 'warn' : 'ok';
  const fallback = card('Fallback', [
    h('p', { class: 'card-headline' }, badge(enabled ? fb.state : 'not configured', fallbackTone)),
    enabled
      ? facts([
          ['Store', fb.kind ?? '–'],
          ['Waiting to replay', String(fb.pending ?? '–')],
          ['Failed replays', String(fb.failed ?? '–')],
          ['Last replay', fb.lastReplayAt ? formatRelative(new Date(fb.lastReplayAt)) : 'never'],
        ])
      : fb?.state && fb.state !== 'not configured'
        ? h('p', { class: 'muted' }, fb.state)
        : null,
  ], { id: 'card-fallback' });

  const catalog = card('Catalog', [
    h('p', { class: 'card-headline' }, status.catalog.dialect, ' ', badge(status.catalog.ok ? 'reachable' : 'unreachable', status.catalog.ok ? 'ok' : 'bad')),
    facts([['Service version', status.version]]),
  ], { id: 'card-catalog' });
  return [backend, breaker, fallback, catalog];
}

function segmentsCard(stats: Stats, order: string[], metric: 'bytes' | 'count', onMetric: (m: 'bytes' | 'count') => void): HTMLElement {
  const names = [...new Set([...order, ...Object.keys(stats.segments)])];
  const bars = names.map((name) => {
    const c = stats.segments[name] ?? { count: 0, bytes: 0 };
    const objects = `${formatCount(c.count)} ${c.count === 1 ? 'object' : 'objects'}`;
    return metric === 'bytes'
      ? { label: name, value: c.bytes, text: formatBytes(c.bytes), detail: objects }
      : { label: name, value: c.count, text: objects, detail: formatBytes(c.bytes) };
  });
  const toggle = h('div', { class: 'segmented', role: 'radiogroup', 'aria-label': 'Measure segments by' });
  for (const [value, label] of [['bytes', 'Bytes'], ['count', 'Objects']] as const) {
    const input = h('input', { type: 'radio', name: 'segment-metric', value, id: `metric-${value}`, checked: metric === value });
    input.addEventListener('change', () => onMetric(value));
    toggle.append(h('label', { for: `metric-${value}` }, input, h('span', {}, label)));
  }
  return card('Storage by segment', [
    h('div', { class: 'card-toolbar' }, h('p', { class: 'card-headline', id: 'total-usage' }, `${formatBytes(stats.total.bytes)} in ${formatCount(stats.total.count)} ${stats.total.count === 1 ? 'object' : 'objects'}`), toggle),
    barChart(bars, { label: `Storage by segment, by ${metric === 'bytes' ? 'bytes' : 'object count'}` }),
  ], { id: 'card-segments', wide: true });
}

const SERIES: { key: keyof Omit<Sample, 'at'>; title: string; format: (v: number | null) => string }[] = [
  { key: 'bytesPerSecond', title: 'Throughput', format: formatRate },
  { key: 'opsPerSecond', title: 'Operations', format: formatOpsRate },
  { key: 'latencyP95Ms', title: 'Latency p95', format: formatMs },
  { key: 'errorRate', title: 'Error rate', format: formatPercent },
];

function duration(seconds: number): string {
  return seconds < 120 ? `${seconds} seconds` : `${Math.round(seconds / 60)} minutes`;
}

/**
 * Sparklines of the polled history. The x axis is time; while the history is young it spans
 * what has been collected (at least 8 polls) rather than leaving most of the chart blank.
 */
function trafficCard(history: MetricsHistory, pollMs: number): HTMLElement {
  const slots = Math.max(8, history.samples.length);
  const span = duration(Math.round((slots * pollMs) / 1000));
  const tiles = SERIES.map(({ key, title, format }) => {
    const values = history.samples.map((s) => s[key]);
    const latest = values.length ? values[values.length - 1]! : null;
    const peak = values.reduce<number | null>((m, v) => (v === null ? m : m === null ? v : Math.max(m, v)), null);
    const label = `${title} over the last ${span}: now ${format(latest)}, peak ${format(peak)}`;
    return h('div', { class: 'tile', 'data-series': key },
      h('div', { class: 'tile-head' }, h('span', { class: 'tile-title' }, title), h('span', { class: 'tile-value' }, format(latest))),
      sparkline(values, { label, capacity: slots }),
      h('div', { class: 'tile-foot muted' }, `peak ${format(peak)}`),
    );
  });
  const note = `Sampled every ${pollMs / 1000} s while this page is open; the last ${duration(Math.round((history.capacity * pollMs) / 1000))} are kept.`;
  return card('Traffic', [
    h('p', { class: 'muted small' }, history.samples.length < 2 ? `Collecting samples… ${note}` : note),
    h('div', { class: 'tiles' }, ...tiles),
  ], { id: 'card-traffic', wide: true });
}

function operationsCard(perf: Performance): HTMLElement {
  const rows: HTMLElement[] = [];
  for (const [backend, ops] of Object.entries(perf.backends)) {
    for (const [op, s] of Object.entries(ops)) {
      const errors = Object.entries(s.errors).map(([code, n]) => `${code} ×${n}`).join(', ');
      rows.push(h('tr', {},
        h('th', { scope: 'row' }, `${backend} ${op}`),
        h('td', { class: 'num' }, formatCount(s.count)),
        h('td', { class: 'num' }, formatPercent(s.successRate)),
        h('td', { class: 'num optional' }, formatMs(s.latencyMs.p50)),
        h('td', { class: 'num' }, formatMs(s.latencyMs.p95)),
        h('td', { class: 'num optional' }, formatMs(s.latencyMs.p99)),
        h('td', { class: 'optional' }, errors || '–'),
      ));
    }
  }
  const cost = perf.monthlyCostEstimate;
  return card('Operations since start', [
    h('p', { class: 'muted' }, `Since ${formatRelative(new Date(perf.since))}`, cost ? ` · estimated monthly cost ${cost.total.toFixed(2)} ${cost.currency}` : ''),
    rows.length
      ? h('div', { class: 'table-scroll' }, h('table', { class: 'data-table' },
          h('caption', { class: 'sr-only' }, 'Backend operations: count, success rate, latency percentiles, errors'),
          h('thead', {}, h('tr', {}, ...['Operation', 'Count', 'Success', 'p50', 'p95', 'p99', 'Errors'].map((t, i) => h('th', { scope: 'col', class: [i > 0 && i < 6 ? 'num' : '', i === 3 || i >= 5 ? 'optional' : ''].join(' ').trim() || null }, t)))),
          h('tbody', {}, ...rows),
        ))
      : h('p', { class: 'muted' }, 'No operations yet.'),
  ], { id: 'card-operations', wide: true });
}

/** The overview: status, storage by segment, and traffic sparklines from a polled history. */
export class Overview {
  private readonly history = new MetricsHistory(60);
  private status?: Status;
  private stats?: Stats;
  private perf?: Performance;
  private error?: string;
  /** When the service last answered: figures shown after a failed refresh date from then. */
  private answeredAt?: Date;
  private metric: 'bytes' | 'count' = 'bytes';
  private timer?: number;

  constructor(
    private readonly root: HTMLElement,
    private readonly api: Api,
    private readonly pollMs: number,
    private readonly isVisible: () => boolean,
  ) {}

  /** Polls until stop(): metrics always (the history must keep up), status and stats while shown. */
  start(): void {
    const tick = async () => {
      if (!document.hidden) await this.poll(this.isVisible());
      this.timer = window.setTimeout(() => void tick(), this.pollMs);
    };
    void tick();
  }

  stop(): void {
    window.clearTimeout(this.timer);
    this.timer = undefined;
  }

  async refresh(): Promise<void> {
    await this.poll(true);
  }

  /** Segment names in configuration order, for other views. */
  get segments() {
    return this.status?.segments ?? this.status?.config?.segments;
  }

  private async poll(full: boolean): Promise<void> {
    try {
      const [perf, status, stats] = await Promise.all([
        this.api.performance(),
        full || !this.status ? this.api.status() : Promise.resolve(this.status),
        full || !this.stats ? this.api.stats() : Promise.resolve(this.stats),
      ]);
      this.history.push(perf.backends);
      this.perf = perf;
      this.status = status;
      this.stats = stats;
      this.error = undefined;
      this.answeredAt = new Date();
    } catch (err) {
      this.error = messageOf(err);
    }
    if (this.isVisible()) this.render();
  }

  render(): void {
    // Re-rendering replaces the nodes; keep a keyboard user's place (only controls with ids can hold it).
    const focused = document.activeElement;
    const focusedId = focused && this.root.contains(focused) ? focused.id : '';
    const parts: Node[] = [];
    // Figures the service did not just confirm are marked as such: a green badge must not outlive its service.
    const stale = this.error !== undefined && this.answeredAt !== undefined;
    if (this.error) {
      const since = stale ? ` The figures below are from its last answer, at ${this.answeredAt!.toLocaleTimeString()}.` : '';
      parts.push(h('p', { class: 'banner banner-error', role: 'alert' }, `Could not refresh: ${this.error}.${since}`));
    }
    if (this.status) parts.push(h('div', { class: stale ? 'cards stale' : 'cards' }, ...statusCards(this.status)));
    if (this.stats) {
      const order = this.segments?.map((s) => s.name) ?? [];
      parts.push(segmentsCard(this.stats, order, this.metric, (m) => {
        this.metric = m;
        this.render();
      }));
    }
    parts.push(trafficCard(this.history, this.pollMs));
    if (this.perf) parts.push(operationsCard(this.perf));
    if (!this.status && !this.error) parts.push(h('p', { class: 'muted' }, 'Loading…'));
    this.root.replaceChildren(...parts);
    if (focusedId) document.getElementById(focusedId)?.focus();
  }
}
