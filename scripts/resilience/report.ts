/** One figure of the longer run: printed as a JSON line at once, kept for the closing table. */
export interface Figure {
  scenario: string;
  figure: string;
  value: number;
  unit: string;
  /** `value <= max` or `value >= min` passes; neither means "for information". */
  max?: number;
  min?: number;
}

const figures: (Figure & { pass: boolean | null })[] = [];

export function report(f: Figure): void {
  const pass = f.max !== undefined ? f.value <= f.max : f.min !== undefined ? f.value >= f.min : null;
  const line = { bench: 'resilience', ...f, pass };
  figures.push(line);
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export function log(message: string): void {
  process.stderr.write(`   ${message}\n`);
}

export function table(): string {
  const rows = figures.map((f) => [
    f.scenario,
    f.figure,
    `${Number.isInteger(f.value) ? f.value : f.value.toFixed(2)} ${f.unit}`,
    f.max !== undefined ? `≤ ${f.max}` : f.min !== undefined ? `≥ ${f.min}` : '',
    f.pass === null ? '' : f.pass ? 'ok' : 'FAIL',
  ]);
  const head = ['scenario', 'figure', 'value', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}

export const failed = () => figures.some((f) => f.pass === false);
