import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
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
  const svg = renderSavingsChart(report);
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
      const widths = x.map((v, i) => (x[i + 1] ?? 936) - v);
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
    expect(XMLValidator.validate(renderSavingsChart(report))).toBe(true);
  });

  // Renders when a rasteriser is installed (Debian's chromium or librsvg2-bin); the parser checks above always run.
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  const rsvg = existsSync('/usr/bin/rsvg-convert') ? '/usr/bin/rsvg-convert' : undefined;
  it.skipIf(!chromium && !rsvg)('renders to a PNG', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'savings-chart-'));
    const svgFile = path.join(dir, 'chart.svg');
    const png = path.join(dir, 'chart.png');
    writeFileSync(svgFile, chartOf('2026-03-04T12:00:00Z').svg);
    if (chromium) {
      execFileSync(
        chromium,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          `--screenshot=${png}`,
          '--window-size=960,600',
          `file://${svgFile}`,
        ],
        { timeout: 60_000 },
      );
    } else {
      execFileSync(rsvg as string, [svgFile, '-o', png], { timeout: 60_000 });
    }
    const bytes = readFileSync(png);
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    expect(statSync(png).size).toBeGreaterThan(10_000);
  });
});
