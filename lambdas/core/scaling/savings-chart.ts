import { DateTime } from 'luxon';
import { nextTransitions } from './calendar.js';
import type { ScheduleConfig } from './config.js';
import { holidayOn } from './holidays.js';
import type { SavingsReport, SavingsSample } from './savings.js';

/**
 * The savings report's week as an SVG a manager reads at a glance, each panel on its own:
 * - the headline gives the saving as a percentage of the peak-all-week node-hours;
 * - per group, the peak profile held all week (the baseline) is a grey band behind; the part of
 *   it the schedule does not hold is shaded green (saved); capacity under the schedule is a thick
 *   blue line and the nodes the running workspaces need a thin dashed amber line on top of it, so
 *   the two stay apart to the eye when they are equal; a line at 0 sits above the axis, not on it;
 * - only weekends and holidays are shaded (the legend names both); the x axis has a tick at each of
 *   the schedule's transitions (07:00 and 18:00 local on working days) and the day below.
 * Pure and hand-written: a string out, no chart library, no fonts or scripts to load.
 */

const WIDTH = 960;
const PANEL_HEIGHT = 270;
const HEADER = 112;
const MARGIN = { left: 64, right: 84, top: 52, bottom: 42 };
const COLORS = {
  capacity: '#1f6feb',
  baseline: '#d0d7de',
  demand: '#9a6700',
  saved: '#2da44e',
  weekend: '#eef1f5',
  holiday: '#fff1c9',
  grid: '#eaeef2',
  axis: '#57606a',
  muted: '#57606a',
} as const;
const STROKES = { capacity: 4, demand: 1.75 } as const;

const escapeXml = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

const fmt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
const pct = (part: number, whole: number): string =>
  `${whole > 0 ? (Math.round((1000 * part) / whole) / 10).toLocaleString('en-US') : '0'}%`;
const px = (n: number): string => String(Math.round(n * 10) / 10);

interface Step {
  readonly x0: number;
  readonly x1: number;
  readonly y: number;
}

/** A step path through (start, value) pairs, each held until the next sample. */
const stepPath = (points: readonly Step[]): string => {
  const parts: string[] = [];
  points.forEach((p, i) => {
    const next = points[i + 1];
    if (i === 0) parts.push(`M${px(p.x0)} ${px(p.y)}`);
    // Consecutive equal values make one segment.
    if (next === undefined || next.y !== p.y) parts.push(`H${px(p.x1)}`, ...(next ? [`V${px(next.y)}`] : []));
  });
  return parts.join(' ');
};

/** The area between the step line `top` and the horizontal line at `floorY`. */
const areaDown = (top: readonly Step[], floorY: number): string => {
  const first = top[0];
  const last = top.at(-1);
  if (!first || !last) return '';
  return `M${px(first.x0)} ${px(floorY)} V${px(first.y)} ${stepPath(top).replace(/^M\S+ \S+ ?/, '')} V${px(floorY)} Z`;
};

/** A tick step that gives 3 to 6 ticks up to `max`. */
const tickStep = (max: number): number => {
  for (const step of [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000]) if (max / step <= 5) return step;
  return 10 ** Math.ceil(Math.log10(max / 5));
};

interface Day {
  readonly ms: number;
  readonly next: number;
  readonly label: string;
  readonly date: string;
  readonly kind: 'working-day' | 'weekend' | 'holiday';
  readonly holiday?: string;
}

/**
 * The chart of `report`'s week. `schedule` is the calendar the report was made with: it gives the
 * transitions to tick and the weekends and holidays to shade.
 */
export const renderSavingsChart = (report: SavingsReport, schedule: ScheduleConfig): string => {
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
  const total = report.total;
  const perWeek = report.weeks > 1 ? ` (per week, mean of ${report.weeks})` : '';
  const headline =
    `The schedule saves ${pct(total.savedNodeHours, total.baselineNodeHours)} of the node-hours of ${report.peakProfile.name} all week: ` +
    `${fmt(total.savedNodeHours)} of ${fmt(total.baselineNodeHours)}` +
    (total.baselineUsd > 0 ? `, $${fmt(total.savedUsd)} of $${fmt(total.baselineUsd)}` : '') +
    `${perWeek}.`;
  const demandLine = `Demand: ${report.demand}.`;

  // Local midnights in the week: each day's width follows its real length (23 h and 25 h days).
  const days: Day[] = [];
  for (let d = start.startOf('day'); d.toMillis() < to; d = d.plus({ days: 1 })) {
    const date = d.toISODate() ?? '';
    const holiday = holidayOn(schedule, date);
    days.push({
      ms: Math.max(d.toMillis(), from),
      next: Math.min(d.plus({ days: 1 }).toMillis(), to),
      label: d.toFormat('ccc d'),
      date,
      kind:
        holiday !== undefined
          ? 'holiday'
          : schedule.weekendDays.includes(d.weekday)
            ? 'weekend'
            : 'working-day',
      ...(holiday !== undefined ? { holiday } : {}),
    });
  }
  // The schedule's transitions in the week; on a holiday the profile does not change, so no tick.
  const ticks = nextTransitions(schedule, new Date(from), new Date(to)).filter((t) => !t.holiday);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="chart-title chart-desc" data-hours="${px(hours)}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title id="chart-title">${escapeXml(title)}</title>`,
    `<desc id="chart-desc">${escapeXml(`${headline} ${demandLine}`)}</desc>`,
    `<rect class="background" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text class="title" x="${MARGIN.left}" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    `<text class="headline" x="${MARGIN.left}" y="46" font-size="14" font-weight="bold" fill="#1a7f37">${escapeXml(headline)}</text>`,
    `<text class="summary" x="${MARGIN.left}" y="64" fill="${COLORS.muted}">${escapeXml(demandLine)}</text>`,
  ];

  // The legend: every mark and shade the panels use, in two rows.
  const swatch = {
    band: (lx: number, ly: number) =>
      `<rect x="${lx}" y="${ly - 6}" width="18" height="10" fill="${COLORS.baseline}"/>`,
    saved: (lx: number, ly: number) =>
      `<rect x="${lx}" y="${ly - 6}" width="18" height="10" fill="${COLORS.saved}" fill-opacity="0.45"/>`,
    capacity: (lx: number, ly: number) =>
      `<line x1="${lx}" y1="${ly - 1}" x2="${lx + 18}" y2="${ly - 1}" stroke="${COLORS.capacity}" stroke-width="${STROKES.capacity}" stroke-opacity="0.8"/>`,
    demand: (lx: number, ly: number) =>
      `<line x1="${lx}" y1="${ly - 1}" x2="${lx + 18}" y2="${ly - 1}" stroke="${COLORS.demand}" stroke-width="${STROKES.demand}" stroke-dasharray="5 3"/>`,
    weekend: (lx: number, ly: number) =>
      `<rect x="${lx}" y="${ly - 6}" width="18" height="10" fill="${COLORS.weekend}" stroke="#d0d7de"/>`,
    holiday: (lx: number, ly: number) =>
      `<rect x="${lx}" y="${ly - 6}" width="18" height="10" fill="${COLORS.holiday}" stroke="#d4a72c"/>`,
  };
  const legend: [keyof typeof swatch, string][][] = [
    [
      ['band', `${report.peakProfile.name} profile all week (the baseline)`],
      ['saved', 'node-hours the schedule saves'],
      ['capacity', 'capacity under the schedule'],
    ],
    [
      ['demand', 'nodes the running workspaces need'],
      ['weekend', 'weekend'],
      ['holiday', 'holiday (off-hours all day)'],
    ],
  ];
  legend.forEach((row, r) => {
    let lx = MARGIN.left;
    const ly = 86 + r * 18;
    for (const [kind, label] of row) {
      out.push(
        `<g class="legend" data-kind="${kind}">${swatch[kind](lx, ly)}<text x="${lx + 24}" y="${ly + 3}">${escapeXml(label)}</text></g>`,
      );
      // Helvetica at 12 px averages under 7 px a character.
      lx += 24 + label.length * 6.6 + 28;
    }
  });

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
    // 0 sits a little above the axis, so a line at 0 (no demand) is drawn, not hidden by the axis.
    const yMin = -yMax * 0.05;
    const y = (v: number) => bottom - ((v - yMin) / (yMax - yMin)) * plotHeight;
    const points = (pick: 'capacity' | 'baseline' | 'need') =>
      series.map(({ s, g }) => ({
        x0: x(Date.parse(s.at)),
        x1: x(Date.parse(s.at) + s.hours * 3_600_000),
        y: y(g?.[pick] ?? 0),
      }));
    const capacity = points('capacity');
    const baseline = points('baseline');
    const need = points('need');
    const saved =
      baseline.length > 0
        ? `${stepPath(baseline)} ${stepPath(
            [...capacity].reverse().map((p) => ({ x0: p.x1, x1: p.x0, y: p.y })),
          ).replace(/^M/, 'L')} Z`
        : '';
    const equalThroughout = series.every(({ g }) => g && g.capacity === g.need);
    const heading =
      `${group.group}${group.instanceType ? ` (${group.instanceType})` : ''}: ` +
      `saves ${group.savedPercent}%, ${fmt(group.savedNodeHours)} of ${fmt(group.baselineNodeHours)} node-hours` +
      (group.savedUsd !== undefined ? ` ($${fmt(group.savedUsd)})` : '');
    const why =
      group.role === 'provisioners'
        ? 'Provisioners are not sized by workspaces: their need is 0 and the schedule holds its floor.'
        : equalThroughout && group.savedNodeHours === 0
          ? 'Capacity is what the running workspaces need all week, under the schedule and under peak alike: no node to save.'
          : group.savedNodeHours === 0
            ? 'The schedule holds what peak would hold all week: no node to save.'
            : group.demandBlindEstimateNodeHours !== group.savedNodeHours
              ? `A demand-blind estimate (the floor gap × hours) would say ${fmt(group.demandBlindEstimateNodeHours)}; running workspaces keep the rest.`
              : 'Saved while the running workspaces need less than the peak floor.';
    const baselineFloor = Math.max(...series.map(({ g }) => g?.baselineFloor ?? 0));
    out.push(`<g class="group" data-group="${escapeXml(group.group)}">`);
    out.push(
      `<text class="group-title" x="${MARGIN.left}" y="${top + 22}" font-size="13" font-weight="bold">${escapeXml(heading)}</text>`,
      `<text class="group-note" x="${MARGIN.left}" y="${top + 39}" font-size="11" fill="${COLORS.muted}">${escapeXml(why)}</text>`,
    );
    // Shading only for what the legend names: weekends and holidays.
    for (const day of days) {
      if (day.kind === 'working-day') continue;
      const dx = x(day.ms);
      const w = x(day.next) - dx;
      // Down through the axis labels too: a panel whose saved area fills the plot still shows the day.
      out.push(
        `<rect class="${day.kind}" data-date="${day.date}" x="${px(dx)}" y="${px(plotTop)}" width="${px(w)}" height="${px(plotHeight + 36)}" fill="${COLORS[day.kind]}"/>`,
      );
    }
    for (let v = 0; v <= yMax; v += step) {
      out.push(
        `<line class="grid" x1="${MARGIN.left}" y1="${px(y(v))}" x2="${WIDTH - MARGIN.right}" y2="${px(y(v))}" stroke="${COLORS.grid}"/>`,
        `<text class="y-label" x="${MARGIN.left - 8}" y="${px(y(v) + 4)}" text-anchor="end">${v}</text>`,
      );
    }
    for (const t of ticks) {
      const tx = x(Date.parse(t.atUtc));
      out.push(
        `<line class="transition" x1="${px(tx)}" y1="${px(plotTop)}" x2="${px(tx)}" y2="${px(bottom)}" stroke="#d8dee4" stroke-dasharray="2 3"/>`,
      );
    }
    days.forEach((day) => {
      const dx = x(day.ms);
      const dayHours = (day.next - day.ms) / 3_600_000;
      out.push(
        `<line class="day" data-date="${day.date}" data-hours="${px(dayHours)}" x1="${px(dx)}" y1="${px(plotTop)}" x2="${px(dx)}" y2="${px(bottom + 30)}" stroke="#afb8c1"/>`,
        `<text class="day-label" x="${px((dx + x(day.next)) / 2)}" y="${px(bottom + 32)}" text-anchor="middle" font-weight="bold">${escapeXml(day.label)}${dayHours === 24 ? '' : ` (${px(dayHours)} h)`}</text>`,
      );
    });
    out.push(
      `<text class="axis-title" transform="translate(16 ${px((plotTop + bottom) / 2)}) rotate(-90)" text-anchor="middle">nodes</text>`,
    );
    if (saved) {
      out.push(
        `<path class="baseline" d="${areaDown(baseline, y(0))}" fill="${COLORS.baseline}" stroke="none"><title>${escapeXml(`${report.peakProfile.name} all week: ${fmt(group.baselineNodeHours)} node-hours`)}</title></path>`,
        `<path class="saved" d="${saved}" fill="${COLORS.saved}" fill-opacity="0.45" stroke="none"><title>${escapeXml(`${fmt(group.savedNodeHours)} node-hours saved`)}</title></path>`,
      );
      if (baselineFloor > 0 && baselineFloor <= yMax) {
        out.push(
          `<line class="baseline-floor" x1="${MARGIN.left}" y1="${px(y(baselineFloor))}" x2="${WIDTH - MARGIN.right}" y2="${px(y(baselineFloor))}" stroke="${COLORS.muted}" stroke-width="0.75" stroke-dasharray="1 3"/>`,
          `<text class="baseline-floor-label" x="${WIDTH - MARGIN.right + 6}" y="${px(y(baselineFloor) + 3)}" font-size="10" fill="${COLORS.muted}">${escapeXml(`${report.peakProfile.name} floor ${baselineFloor}`)}</text>`,
        );
      }
      out.push(
        `<path class="capacity" d="${stepPath(capacity)}" fill="none" stroke="${COLORS.capacity}" stroke-width="${STROKES.capacity}" stroke-opacity="0.8" stroke-linejoin="round"/>`,
        `<path class="demand" d="${stepPath(need)}" fill="none" stroke="${COLORS.demand}" stroke-width="${STROKES.demand}" stroke-dasharray="5 3"/>`,
      );
    }
    out.push(
      `<line class="axis" x1="${MARGIN.left}" y1="${px(bottom)}" x2="${WIDTH - MARGIN.right}" y2="${px(bottom)}" stroke="${COLORS.axis}"/>`,
    );
    for (const t of ticks) {
      const tx = x(Date.parse(t.atUtc));
      out.push(
        `<line class="transition-tick" data-at="${t.atUtc}" data-local="${t.at}" data-profile="${escapeXml(t.effectiveProfile)}" x1="${px(tx)}" y1="${px(bottom)}" x2="${px(tx)}" y2="${px(bottom + 5)}" stroke="${COLORS.axis}"/>`,
        `<text class="tick-label" x="${px(tx)}" y="${px(bottom + 15)}" text-anchor="middle" font-size="10" fill="${COLORS.muted}">${t.at}</text>`,
      );
    }
    for (const day of days) {
      if (!day.holiday) continue;
      out.push(
        `<text class="holiday-name" x="${px((x(day.ms) + x(day.next)) / 2)}" y="${px(plotTop + 12)}" text-anchor="middle" font-size="10" font-weight="bold" fill="#7d4e00">${escapeXml(day.holiday)}</text>`,
      );
    }
    out.push('</g>');
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
};
