import { DateTime } from 'luxon';
import type { SavingsReport, SavingsSample } from './savings.js';

/**
 * The savings report's week as an SVG a manager reads at a glance: one panel per group, its
 * capacity under the schedule (solid), the peak profile held all week (dashed), the nodes the
 * running workspaces need (dotted), and the node-hours saved shaded between baseline and capacity.
 * Pure and hand-written: a string out, no chart library, no fonts or scripts to load.
 */

const WIDTH = 960;
const PANEL_HEIGHT = 230;
const HEADER = 70;
const MARGIN = { left: 64, right: 24, top: 34, bottom: 34 };
const COLORS = { capacity: '#1f6feb', baseline: '#6e7781', demand: '#bf8700', saved: '#2da44e' };

const escapeXml = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

const fmt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
const px = (n: number): string => String(Math.round(n * 10) / 10);

/** A step path through (start, value) pairs, each held until the next sample. */
const stepPath = (points: readonly { x0: number; x1: number; y: number }[]): string => {
  const parts: string[] = [];
  points.forEach((p, i) => {
    const next = points[i + 1];
    if (i === 0) parts.push(`M${px(p.x0)} ${px(p.y)}`);
    // Consecutive equal values make one segment.
    if (next === undefined || next.y !== p.y) parts.push(`H${px(p.x1)}`, ...(next ? [`V${px(next.y)}`] : []));
  });
  return parts.join(' ');
};

/** A tick step that gives 3 to 6 ticks up to `max`. */
const tickStep = (max: number): number => {
  for (const step of [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000]) if (max / step <= 5) return step;
  return 10 ** Math.ceil(Math.log10(max / 5));
};

export const renderSavingsChart = (report: SavingsReport): string => {
  const { chart, timeZone } = report;
  const from = Date.parse(chart.from);
  const to = Date.parse(chart.to);
  const hours = (to - from) / 3_600_000;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (ms: number) => MARGIN.left + ((ms - from) / (to - from)) * plotWidth;
  const height = HEADER + PANEL_HEIGHT * report.groups.length;
  const start = DateTime.fromMillis(from, { zone: timeZone });
  const title = `What the schedule saves: week of ${start.toFormat('ccc d LLL yyyy')} (${timeZone}, ${fmt(hours)} h)`;
  const totalLine =
    `${fmt(report.total.savedNodeHours)} node-hours saved of ${fmt(report.total.baselineNodeHours)}` +
    ` against ${report.peakProfile.name} all week` +
    (report.total.baselineUsd > 0
      ? `, $${fmt(report.total.savedUsd)} of $${fmt(report.total.baselineUsd)}`
      : '') +
    (report.weeks > 1 ? ` (per week, mean of ${report.weeks})` : '') +
    `. Demand: ${report.demand}.`;

  // Local midnights in the week: each day's width follows its real length (23 h and 25 h days).
  const days: { ms: number; next: number; label: string; date: string }[] = [];
  for (let d = start.startOf('day'); d.toMillis() < to; d = d.plus({ days: 1 })) {
    const next = d.plus({ days: 1 });
    days.push({
      ms: Math.max(d.toMillis(), from),
      next: Math.min(next.toMillis(), to),
      label: d.toFormat('ccc d'),
      date: d.toISODate() ?? '',
    });
  }

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="chart-title chart-desc" data-hours="${px(hours)}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title id="chart-title">${escapeXml(title)}</title>`,
    `<desc id="chart-desc">${escapeXml(totalLine)}</desc>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text class="title" x="${MARGIN.left}" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    `<text class="summary" x="${MARGIN.left}" y="44">${escapeXml(totalLine)}</text>`,
  ];
  const legend: [string, string, string][] = [
    ['capacity', COLORS.capacity, 'capacity under the schedule'],
    ['baseline', COLORS.baseline, `${report.peakProfile.name} profile all week`],
    ['demand', COLORS.demand, 'nodes the running workspaces need'],
    ['saved', COLORS.saved, 'node-hours saved'],
  ];
  let lx = MARGIN.left;
  for (const [kind, color, label] of legend) {
    out.push(
      kind === 'saved'
        ? `<rect x="${lx}" y="54" width="18" height="10" fill="${color}" fill-opacity="0.35"/>`
        : `<line x1="${lx}" y1="59" x2="${lx + 18}" y2="59" stroke="${color}" stroke-width="2"${kind === 'baseline' ? ' stroke-dasharray="6 4"' : kind === 'demand' ? ' stroke-dasharray="2 3"' : ''}/>`,
      `<text x="${lx + 24}" y="63">${escapeXml(label)}</text>`,
    );
    // Helvetica at 12 px averages under 7 px a character.
    lx += 24 + label.length * 7 + 24;
  }

  report.groups.forEach((group, index) => {
    const top = HEADER + index * PANEL_HEIGHT;
    const plotTop = top + MARGIN.top;
    const bottom = plotTop + plotHeight;
    const series = chart.samples
      .map((s: SavingsSample) => ({ s, g: s.groups[group.group] }))
      .filter((e) => e.g !== undefined);
    const max = Math.max(1, ...series.flatMap(({ g }) => (g ? [g.capacity, g.baseline, g.need] : [])));
    const step = tickStep(max);
    const yMax = Math.ceil(max / step) * step;
    const y = (v: number) => bottom - (v / yMax) * plotHeight;
    const points = (pick: 'capacity' | 'baseline' | 'need') =>
      series.map(({ s, g }) => {
        const x0 = x(Date.parse(s.at));
        return { x0, x1: x(Date.parse(s.at) + s.hours * 3_600_000), y: y(g?.[pick] ?? 0) };
      });
    const capacity = points('capacity');
    const baseline = points('baseline');
    const saved =
      baseline.length > 0
        ? `${stepPath(baseline)} ${stepPath(
            [...capacity].reverse().map((p) => ({ x0: p.x1, x1: p.x0, y: p.y })),
          ).replace(/^M/, 'L')} Z`
        : '';
    const heading =
      `${group.group}${group.instanceType ? ` (${group.instanceType})` : ''}: ` +
      `${fmt(group.savedNodeHours)} of ${fmt(group.baselineNodeHours)} node-hours saved (${group.savedPercent}%)` +
      (group.savedUsd !== undefined ? `, $${fmt(group.savedUsd)}` : '') +
      (group.demandBlindEstimateNodeHours !== group.savedNodeHours
        ? `; a demand-blind estimate would say ${fmt(group.demandBlindEstimateNodeHours)}`
        : '');
    out.push(`<g class="group" data-group="${escapeXml(group.group)}">`);
    out.push(
      `<text class="group-title" x="${MARGIN.left}" y="${top + 22}" font-size="13" font-weight="bold">${escapeXml(heading)}</text>`,
    );
    days.forEach((day, i) => {
      const dx = x(day.ms);
      const dayHours = (day.next - day.ms) / 3_600_000;
      if (i % 2 === 1) {
        out.push(
          `<rect x="${px(dx)}" y="${px(plotTop)}" width="${px(x(day.next) - dx)}" height="${px(plotHeight)}" fill="#f6f8fa"/>`,
        );
      }
      out.push(
        `<line class="day" data-date="${day.date}" data-hours="${px(dayHours)}" x1="${px(dx)}" y1="${px(plotTop)}" x2="${px(dx)}" y2="${px(bottom)}" stroke="#d0d7de"/>`,
        `<text class="day-label" x="${px((dx + x(day.next)) / 2)}" y="${px(bottom + 16)}" text-anchor="middle">${escapeXml(day.label)}${dayHours === 24 ? '' : ` (${px(dayHours)} h)`}</text>`,
      );
    });
    for (let v = 0; v <= yMax; v += step) {
      out.push(
        `<line x1="${MARGIN.left}" y1="${px(y(v))}" x2="${WIDTH - MARGIN.right}" y2="${px(y(v))}" stroke="#eaeef2"/>`,
        `<text class="y-label" x="${MARGIN.left - 8}" y="${px(y(v) + 4)}" text-anchor="end">${v}</text>`,
      );
    }
    out.push(
      `<text class="axis-title" transform="translate(16 ${px((plotTop + bottom) / 2)}) rotate(-90)" text-anchor="middle">nodes</text>`,
      `<line x1="${MARGIN.left}" y1="${px(bottom)}" x2="${WIDTH - MARGIN.right}" y2="${px(bottom)}" stroke="#57606a"/>`,
    );
    if (saved) {
      out.push(
        `<path class="saved" d="${saved}" fill="${COLORS.saved}" fill-opacity="0.35" stroke="none"><title>${escapeXml(`${fmt(group.savedNodeHours)} node-hours saved`)}</title></path>`,
        `<path class="baseline" d="${stepPath(baseline)}" fill="none" stroke="${COLORS.baseline}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
        `<path class="capacity" d="${stepPath(capacity)}" fill="none" stroke="${COLORS.capacity}" stroke-width="2"/>`,
        `<path class="demand" d="${stepPath(points('need'))}" fill="none" stroke="${COLORS.demand}" stroke-width="1.5" stroke-dasharray="2 3"/>`,
      );
    }
    out.push('</g>');
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
};
