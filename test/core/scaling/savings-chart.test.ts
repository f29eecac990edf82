import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { peakAndOffHoursDemand, planWeekSavings } from '../../../lambdas/core/scaling/savings.js';
import { renderSavingsChart } from '../../../lambdas/core/scaling/savings-chart.js';
import { at, seedConfig } from './fixtures.js';

type Node = Record<string, unknown>;

/** Every element named `name` under `node`, depth first. */
const elements = (node: unknown, name: string): Node[] => {
  if (node === null || typeof node !== 'object') return [];
  if (Array.isArray(node)) return node.flatMap((n) => elements(n, name));
  const found: Node[] = [];
  for (const [key, value] of Object.entries(node as Node)) {
    if (key === name)
      found.push(...(Array.isArray(value) ? value : [value]).filter((v) => typeof v === 'object'));
    found.push(...elements(value, name));
  }
  return found;
};
const text = (node: Node): string => String(node['#text'] ?? '');

const chartOf = (weekOf: string, offHoursRunning = 300) => {
  const report = planWeekSavings({
    config: seedConfig(),
    weekOf: at(weekOf),
    demand: peakAndOffHoursDemand('peak', 3000, offHoursRunning),
  });
  const svg = renderSavingsChart(report, seedConfig().schedule);
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(svg) as Node;
  return { report, svg, root: parsed.svg as Node };
};

describe('renderSavingsChart', () => {
  it('is well-formed SVG with a panel per group: capacity, baseline, demand, the saved area, axis labels', () => {
    const { svg, root } = chartOf('2026-12-09T12:00:00Z', 0);
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(root.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(root['data-hours']).toBe('168');
    const groups = elements(root, 'g').filter((g) => g.class === 'group');
    expect(groups.map((g) => g['data-group'])).toEqual(['coder-ws', 'coder-prov']);
    for (const g of groups) {
      const paths = elements(g, 'path');
      for (const kind of ['capacity', 'baseline', 'demand', 'saved']) {
        expect(paths.filter((p) => p.class === kind)).toHaveLength(1);
      }
      expect(String(paths.find((p) => p.class === 'saved')?.d)).toMatch(/^M[\d. HVL]+Z$/);
      const dayLabels = elements(g, 'text')
        .filter((t) => t.class === 'day-label')
        .map(text);
      expect(dayLabels).toEqual(['Mon 7', 'Tue 8', 'Wed 9', 'Thu 10', 'Fri 11', 'Sat 12', 'Sun 13']);
      expect(
        elements(g, 'text')
          .filter((t) => t.class === 'y-label')
          .map(text),
      ).toContain('0');
      expect(elements(g, 'text').some((t) => t.class === 'axis-title' && text(t) === 'nodes')).toBe(true);
    }
    expect(text(elements(root, 'title')[0] ?? {})).toContain('week of Mon 7 Dec 2026');
  });

  it.each([
    {
      weekOf: '2026-03-04T12:00:00Z',
      hours: '167',
      date: '2026-03-08',
      dayHours: '23',
      label: 'Sun 8 (23 h)',
    },
    {
      weekOf: '2026-10-28T12:00:00Z',
      hours: '169',
      date: '2026-11-01',
      dayHours: '25',
      label: 'Sun 1 (25 h)',
    },
  ])(
    'a DST week is $hours hours long and its Sunday $dayHours',
    ({ weekOf, hours, date, dayHours, label }) => {
      const { svg, root } = chartOf(weekOf);
      expect(XMLValidator.validate(svg)).toBe(true);
      expect(root['data-hours']).toBe(hours);
      const panel = elements(root, 'g').find((g) => g['data-group'] === 'coder-prov') ?? {};
      const days = elements(panel, 'line').filter((l) => l.class === 'day');
      expect(days).toHaveLength(7);
      expect(days.find((d) => d['data-date'] === date)?.['data-hours']).toBe(dayHours);
      expect(elements(panel, 'text').map(text)).toContain(label);
      // Days are as wide as they are long: the short Sunday is 23/24 of a Monday.
      const x = days.map((d) => Number(d.x1));
      const right = Number(elements(panel, 'line').find((l) => l.class === 'axis')?.x2);
      const widths = x.map((v, i) => (x[i + 1] ?? right) - v);
      expect((widths[6] ?? 0) / (widths[0] ?? 1)).toBeCloseTo(Number(dayHours) / 24, 2);
    },
  );

  it('escapes text from the config', () => {
    const config = seedConfig();
    const report = planWeekSavings({
      config,
      weekOf: at('2026-12-09T12:00:00Z'),
      demand: { description: 'a <b>"demo"</b> & more', runningAt: () => 0 },
    });
    expect(XMLValidator.validate(renderSavingsChart(report, config.schedule))).toBe(true);
  });
});

const attr = (node: Node, name: string): string => String(node[name] ?? '');
const panelOf = (root: Node, group: string): Node =>
  elements(root, 'g').find((g) => g['data-group'] === group) ?? {};

describe('renderSavingsChart: each panel readable on its own', () => {
  it('puts the total saving as a percentage in the headline, and each group’s in its title', () => {
    const { root } = chartOf('2026-12-09T12:00:00Z');
    const headline = elements(root, 'text').find((t) => t.class === 'headline');
    expect(text(headline ?? {})).toBe(
      'The schedule saves 1.7% of the node-hours of peak all week: 226 of 13,596, $77 of $5,206.',
    );
    const titles = elements(root, 'text')
      .filter((t) => t.class === 'group-title')
      .map(text);
    expect(titles).toEqual([
      'coder-ws (m5.2xlarge): saves 0%, 0 of 13,260 node-hours ($0)',
      'coder-prov (c5.2xlarge): saves 67.3%, 226 of 336 node-hours ($77)',
    ]);
  });

  it('draws the baseline as a band behind, capacity and demand apart when equal, and a demand of 0 above the axis', () => {
    const { root } = chartOf('2026-12-09T12:00:00Z');
    for (const group of ['coder-ws', 'coder-prov']) {
      const panel = panelOf(root, group);
      const paths = elements(panel, 'path');
      const kinds = paths.map((p) => attr(p, 'class'));
      // The band first (behind), the lines last (on top).
      expect(kinds).toEqual(['baseline', 'saved', 'capacity', 'demand']);
      const [band, , capacity, demand] = paths as [Node, Node, Node, Node];
      expect(attr(band, 'fill')).not.toBe('none');
      expect(attr(band, 'd')).toMatch(/^M[\d. HVL]+Z$/);
      // Equal values stay distinguishable: a thick solid line under a thin dashed one of another colour.
      expect(Number(attr(capacity, 'stroke-width'))).toBeGreaterThanOrEqual(
        2 * Number(attr(demand, 'stroke-width')),
      );
      expect(attr(capacity, 'stroke-dasharray')).toBe('');
      expect(attr(demand, 'stroke-dasharray')).not.toBe('');
      expect(attr(demand, 'stroke')).not.toBe(attr(capacity, 'stroke'));
    }
    // coder-ws: capacity is demand all week (the three series are equal), and the panel says why.
    const ws = panelOf(root, 'coder-ws');
    const [, , wsCapacity, wsDemand] = elements(ws, 'path') as [Node, Node, Node, Node];
    expect(attr(wsCapacity, 'd')).toBe(attr(wsDemand, 'd'));
    expect(text(elements(ws, 'text').find((t) => t.class === 'group-note') ?? {})).toContain(
      'Capacity is what the running workspaces need all week',
    );
    // coder-prov: provisioners need 0 nodes; that line is drawn above the axis, not on it.
    const prov = panelOf(root, 'coder-prov');
    const demandYs = [
      ...attr(elements(prov, 'path').find((p) => p.class === 'demand') ?? {}, 'd').matchAll(
        /[MV](\S+) ?(\S+)?/g,
      ),
    ].map((m) => Number(m[0].startsWith('M') ? m[2] : m[1]));
    const axisY = Number(attr(elements(prov, 'line').find((l) => l.class === 'axis') ?? {}, 'y1'));
    expect(new Set(demandYs).size).toBe(1);
    expect(axisY - (demandYs[0] ?? axisY)).toBeGreaterThanOrEqual(4);
  });

  it.each([
    {
      week: 'an ordinary week',
      weekOf: '2026-12-09T12:00:00Z',
      shaded: [
        ['weekend', '2026-12-12'],
        ['weekend', '2026-12-13'],
      ],
      transitions: 10,
      holidayNames: [],
    },
    {
      week: 'Thanksgiving week',
      weekOf: '2026-11-24T12:00:00Z',
      shaded: [
        ['holiday', '2026-11-26'],
        ['weekend', '2026-11-28'],
        ['weekend', '2026-11-29'],
      ],
      transitions: 8,
      holidayNames: ['Thanksgiving Day'],
    },
  ])(
    '$week: shades only weekends and holidays, and ticks each transition at 07:00 and 18:00 local',
    ({ weekOf, shaded, transitions, holidayNames }) => {
      const { root } = chartOf(weekOf);
      const legend = elements(root, 'g')
        .filter((g) => g.class === 'legend')
        .map((g) => attr(g, 'data-kind'));
      expect(legend).toEqual(expect.arrayContaining(['weekend', 'holiday']));
      for (const group of ['coder-ws', 'coder-prov']) {
        const panel = panelOf(root, group);
        const rects = elements(panel, 'rect');
        expect(rects.map((r) => [attr(r, 'class'), attr(r, 'data-date')])).toEqual(shaded);
        expect(
          elements(panel, 'text')
            .filter((t) => t.class === 'holiday-name')
            .map(text),
        ).toEqual(holidayNames);
        const ticks = elements(panel, 'line').filter((l) => l.class === 'transition-tick');
        expect(ticks).toHaveLength(transitions);
        for (const tick of ticks) {
          const local = DateTime.fromISO(attr(tick, 'data-at'), { zone: 'America/New_York' });
          expect(local.toFormat('HH:mm')).toBe(attr(tick, 'data-local'));
          expect(['07:00', '18:00']).toContain(attr(tick, 'data-local'));
          expect(local.weekday).toBeLessThan(6);
        }
        expect(
          new Set(
            elements(panel, 'text')
              .filter((t) => t.class === 'tick-label')
              .map(text),
          ),
        ).toEqual(new Set(['07:00', '18:00']));
      }
    },
  );

  it('renders to a PNG a person can look at (written to the artifacts folder), holiday and all', () => {
    // Prepare: Thanksgiving week, rendered at the SVG's own size.
    const { svg, root } = chartOf('2026-11-24T12:00:00Z');
    const dir = process.env.CHART_ARTIFACTS_DIR ?? path.join(tmpdir(), 'coder-fleet-charts');
    mkdirSync(dir, { recursive: true });
    // Act
    const image = new Resvg(svg, {
      fitTo: { mode: 'original' },
      font: { loadSystemFonts: true, sansSerifFamily: 'DejaVu Sans' },
    }).render();
    const png = image.asPng();
    const file = path.join(dir, 'savings-thanksgiving-week.png');
    writeFileSync(file, png);
    process.stderr.write(`savings chart rendered to ${file}\n`);
    // Assess: a PNG of the SVG's size, and the holiday band in the pixels where the SVG puts it.
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(20_000);
    expect([image.width, image.height]).toEqual([Number(root.width), Number(root.height)]);
    const band = elements(panelOf(root, 'coder-ws'), 'rect').find((r) => r.class === 'holiday') ?? {};
    const [px, py] = [Math.round(Number(band.x) + 6), Math.round(Number(band.y) + 30)];
    const at = (px + py * image.width) * 4;
    const [r, g, b] = [image.pixels[at], image.pixels[at + 1], image.pixels[at + 2]];
    // #fff1c9, the holiday shade.
    expect([r, g, b]).toEqual([0xff, 0xf1, 0xc9]);
  });
});
