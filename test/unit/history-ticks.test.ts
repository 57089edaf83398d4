/**
 * The history chart's time axis (renderer/src/components/HistoryChart.tsx): for any span it
 * shows, from seconds to weeks, a few ticks at round times, each label different from the others
 * (the chart once wrote the same time under every tick).
 */
import { describe, expect, it } from 'vitest';
import { timeTicks } from '../../renderer/src/components/HistoryChart';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('the time axis', () => {
  // Starts at odd moments: just before midnight UTC, mid-afternoon, a leap day.
  const starts = [
    Date.UTC(2025, 0, 1, 23, 59, 57, 123),
    Date.UTC(2025, 5, 15, 14, 3, 7),
    Date.UTC(2024, 1, 29, 0, 0, 0),
  ];
  const spans = [
    2 * SECOND,
    10 * SECOND,
    45 * SECOND,
    90 * SECOND,
    7 * MINUTE,
    HOUR,
    5 * HOUR,
    DAY,
    30 * HOUR,
    3 * DAY,
    7 * DAY,
    30 * DAY,
  ];
  for (const from of starts)
    for (const span of spans)
      it(`has 2 to 7 distinct, increasing ticks over ${span / SECOND} s from ${new Date(from).toISOString()}`, () => {
        const { ticks, format } = timeTicks(from, from + span);
        expect(ticks.length).toBeGreaterThanOrEqual(2);
        expect(ticks.length).toBeLessThanOrEqual(7);
        for (const t of ticks) {
          expect(t).toBeGreaterThanOrEqual(from);
          expect(t).toBeLessThanOrEqual(from + span);
        }
        expect([...ticks].sort((a, b) => a - b)).toEqual(ticks);
        const labels = ticks.map(format);
        expect(new Set(labels).size, labels.join(' | ')).toBe(labels.length);
      });

  it('names the zone in the hour a clock is set back, which comes twice', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      // 2024-11-03 00:00 EDT, five hours: 01:00 EDT, then 01:00 EST.
      const from = Date.UTC(2024, 10, 3, 4, 0, 0);
      const { ticks, format } = timeTicks(from, from + 5 * HOUR);
      const labels = ticks.map(format);
      expect(ticks).toHaveLength(6);
      expect(new Set(labels).size, labels.join(' | ')).toBe(labels.length);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('writes seconds only when the ticks are seconds apart, and dates across days', () => {
    const from = Date.UTC(2025, 5, 15, 12, 0, 0);
    const seconds = timeTicks(from, from + 20 * SECOND);
    expect(seconds.format(seconds.ticks[0]!)).toMatch(/\d\d:\d\d:\d\d/);
    const hours = timeTicks(from, from + 5 * HOUR);
    expect(hours.format(hours.ticks[0]!)).not.toMatch(/\d\d:\d\d:\d\d/);
    const days = timeTicks(from, from + 7 * DAY);
    expect(days.format(days.ticks[0]!)).not.toMatch(/\d\d:\d\d/);
  });
});
