import { h, svg } from './dom.js';

/**
 * Inline SVG charts. Each is drawn for sighted users and described in words for screen
 * readers (role="img" with a label that states the figures), since a shape says nothing aloud.
 */
export interface Bar {
  label: string;
  value: number;
  /** What the value reads as, e.g. "1.2 MiB". */
  text: string;
  /** A second figure shown beside it, e.g. "3 objects". */
  detail?: string;
}

/** Horizontal bars, one row each: label, bar, figures. Rows are HTML so text stays readable at any width. */
export function barChart(bars: Bar[], opts: { label: string }): HTMLElement {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const list = h('ul', { class: 'bars', 'aria-label': opts.label });
  for (const bar of bars) {
    const pct = bar.value <= 0 ? 0 : Math.max(1.5, (bar.value / max) * 100);
    list.append(
      h(
        'li',
        { class: 'bar-row', 'data-segment': bar.label, 'data-value': bar.value },
        h('span', { class: 'bar-label' }, bar.label),
        svg('svg', { class: 'bar-track', viewBox: '0 0 100 10', preserveAspectRatio: 'none', 'aria-hidden': 'true', focusable: 'false' },
          svg('rect', { class: 'bar-bg', x: 0, y: 0, width: 100, height: 10, rx: 2 }),
          svg('rect', { class: 'bar-fill', x: 0, y: 0, width: pct.toFixed(2), height: 10, rx: 2 }),
        ),
        h('span', { class: 'bar-value' }, bar.text, bar.detail ? h('span', { class: 'bar-detail' }, ` · ${bar.detail}`) : null),
      ),
    );
  }
  return list;
}

/**
 * A sparkline of the last values (null = no data in that interval), scaled to its own maximum.
 * The stroke keeps its width however the SVG is stretched (vector-effect).
 */
export function sparkline(values: (number | null)[], opts: { label: string; capacity: number }): SVGSVGElement {
  const width = 120;
  const height = 32;
  const known = values.filter((v): v is number => v !== null);
  const max = Math.max(...known, 0) || 1;
  const step = width / Math.max(1, opts.capacity - 1);
  const offset = (opts.capacity - values.length) * step;
  const chart = svg('svg', { class: 'sparkline', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': opts.label });
  chart.append(svg('title', {}, opts.label));
  // One path per run of known values, so gaps show as gaps.
  let run: [number, number][] = [];
  const flush = () => {
    if (run.length === 0) return;
    const line = run.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
    const first = run[0]!;
    const last = run[run.length - 1]!;
    chart.append(svg('path', { class: 'spark-area', d: `${line} L${last[0].toFixed(1)},${height} L${first[0].toFixed(1)},${height} Z` }));
    chart.append(svg('path', { class: 'spark-line', d: line, 'vector-effect': 'non-scaling-stroke' }));
    run = [];
  };
  values.forEach((value, i) => {
    if (value === null) return flush();
    run.push([offset + i * step, height - 2 - (value / max) * (height - 4)]);
  });
  flush();
  if (known.length === 0) chart.append(svg('line', { class: 'spark-empty', x1: 0, y1: height - 2, x2: width, y2: height - 2, 'vector-effect': 'non-scaling-stroke' }));
  return chart;
}
