import { appendFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import type { Stats } from './measure.js';

/** What a figure must reach: on the ratio to its anchor, or on the subject's own value (e.g. RSS). */
export interface Target {
  on: 'ratio' | 'subject';
  op: '>=' | '<=' | '<' | '>';
  value: number;
}

/** One measured figure, printed as one JSON line. Values are medians of `runs` runs. */
export interface Figure {
  bench: string;
  figure: string;
  /** What is measured, e.g. `library put (fsync)`. */
  subject: string;
  subjectValue: number;
  /** What it is compared with in the same run; null for an informational figure without anchor. */
  anchor: string | null;
  anchorValue: number | null;
  unit: string;
  /** subject / anchor: the median of per-round ratios when the runs were paired. */
  ratio: number | null;
  target: Target | null;
  /** null when there is no target (informational). */
  pass: boolean | null;
  runs: number;
  /** [min, max] of the runs, to show how noisy the median is. */
  spread?: { subject: [number, number]; anchor?: [number, number] };
  note?: string;
}

export type FigureInput = Omit<Figure, 'bench' | 'pass' | 'ratio' | 'anchor' | 'anchorValue' | 'target' | 'spread'> & {
  anchor?: string | null;
  anchorValue?: number | null;
  ratio?: number | null;
  target?: Target | null;
  subjectStats?: Stats;
  anchorStats?: Stats;
};

function meets(value: number, target: Target): boolean {
  switch (target.op) {
    case '>=':
      return value >= target.value;
    case '<=':
      return value <= target.value;
    case '<':
      return value < target.value;
    case '>':
      return value > target.value;
  }
}

/** Fills in the derived fields: ratio (subject/anchor unless given), pass, spread. */
export function makeFigure(bench: string, input: FigureInput): Figure {
  const { subjectStats, anchorStats, ...rest } = input;
  const anchorValue = input.anchorValue ?? null;
  const ratio = input.ratio ?? (anchorValue ? input.subjectValue / anchorValue : null);
  const target = input.target ?? null;
  const judged = target?.on === 'ratio' ? ratio : input.subjectValue;
  const pass = target && judged !== null ? meets(judged, target) : null;
  // Spelled out so every JSON line has its fields in the same order.
  const figure: Figure = {
    bench,
    figure: rest.figure,
    subject: rest.subject,
    subjectValue: rest.subjectValue,
    anchor: input.anchor ?? null,
    anchorValue,
    unit: rest.unit,
    ratio,
    target,
    pass,
    runs: rest.runs,
  };
  if (subjectStats) {
    figure.spread = { subject: [subjectStats.min, subjectStats.max] };
    if (anchorStats) figure.spread.anchor = [anchorStats.min, anchorStats.max];
  }
  if (rest.note) figure.note = rest.note;
  return figure;
}

function num(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  const abs = Math.abs(value);
  if (abs >= 1000) return value.toFixed(0);
  if (abs >= 100) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

function describeTarget(target: Target | null, unit: string): string {
  if (!target) return '(info)';
  return target.on === 'ratio' ? `ratio ${target.op} ${target.value}` : `${target.op} ${target.value} ${unit}`;
}

/** Rounds to 4 significant digits so the JSON lines stay readable. */
function rounded(figure: Figure): Figure {
  return JSON.parse(JSON.stringify(figure, (_k, v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? Number(v.toPrecision(4)) : v))) as Figure;
}

/**
 * Prints each figure as one JSON line the moment it is known (stdout), appends it to the
 * results file, and renders the table at the end.
 */
export class Reporter {
  private readonly figures: Figure[] = [];
  private readonly skipped: { bench: string; reason: string }[] = [];
  private readonly crashed: { bench: string; error: string }[] = [];

  constructor(
    private readonly resultsFile: string,
    private readonly runId: string,
  ) {
    mkdirSync(dirname(resultsFile), { recursive: true });
  }

  private append(record: object): void {
    // load1: how busy the machine was when the figure was taken, to judge old results by.
    appendFileSync(this.resultsFile, `${JSON.stringify({ ...record, runId: this.runId, load1: Number(loadavg()[0]!.toFixed(2)) })}\n`);
  }

  add(figure: Figure): void {
    const line = rounded(figure);
    this.figures.push(line);
    process.stdout.write(`${JSON.stringify(line)}\n`);
    this.append(line);
  }

  skip(bench: string, reason: string): void {
    this.skipped.push({ bench, reason });
    process.stdout.write(`SKIP ${bench}: ${reason}\n`);
    this.append({ bench, skipped: reason });
  }

  crash(bench: string, err: unknown): void {
    const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    this.crashed.push({ bench, error });
    process.stderr.write(`CRASH ${bench}: ${error}\n`);
    this.append({ bench, crashed: err instanceof Error ? err.message : String(err) });
  }

  get hasCrashes(): boolean {
    return this.crashed.length > 0;
  }

  table(): string {
    const header = ['bench', 'figure', 'subject', 'anchor', 'ratio', 'target', 'pass', 'runs'];
    const rows = this.figures.map((f) => [
      f.bench,
      f.figure,
      `${num(f.subjectValue)} ${f.unit}  ${f.subject}`,
      f.anchor === null ? '-' : `${num(f.anchorValue)} ${f.unit}  ${f.anchor}`,
      f.ratio === null ? '-' : `${num(f.ratio)}x`,
      describeTarget(f.target, f.unit),
      f.pass === null ? '' : f.pass ? 'PASS' : 'FAIL',
      String(f.runs),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
    const out = rows.length > 0 ? [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)] : ['(no figures)'];
    for (const s of this.skipped) out.push(`skipped ${s.bench}: ${s.reason}`);
    for (const c of this.crashed) out.push(`CRASHED ${c.bench}: ${c.error.split('\n')[0]}`);
    return out.join('\n');
  }
}
