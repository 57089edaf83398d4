/**
 * The vault's collateral ratio and the BTC price over time (recharts): two small charts on one
 * time axis, each with one y-axis in its own unit — the ratio in % with the liquidation and
 * warning ratios marked, the price in USD with the vault's liquidation price marked.
 */
import { useMemo, useState } from 'react';
import {
  CartesianGrid,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { useApi } from '../api/context';
import { pct, usd } from '../lib/format';
import { Empty, ErrorNote, Loading } from './ui';

const RANGES = [
  { label: '1 h', ms: 3_600_000 },
  { label: '24 h', ms: 86_400_000 },
  { label: '7 d', ms: 7 * 86_400_000 },
] as const;

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Tick spacings a person reads at a glance, the smallest that gives at most ~6 ticks is used. */
const STEPS = [
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
];

// The theme's colours (styles.css): SVG takes var() in its attributes, so a theme switch repaints.
const COLOR = {
  ratio: 'var(--ok)',
  price: 'var(--chart-price)',
  liquidation: 'var(--danger)',
  warning: 'var(--warn)',
  axis: 'var(--muted)',
  grid: 'var(--border)',
};

/**
 * Ticks at round local times between `from` and `to`, and how to write them: seconds when they
 * are seconds apart, hours and minutes within a day, the date (with the time while they are
 * hours apart) across days — so no two ticks read the same.
 */
export function timeTicks(
  from: number,
  to: number,
  most = 6,
): { ticks: number[]; format: (t: number) => string } {
  const span = Math.max(to - from, SECOND);
  const step = STEPS.find((s) => span / s <= most) ?? STEPS[STEPS.length - 1]!;
  // Round to the local clock: an hour's ticks fall on the hour where the person is.
  const offset = new Date(from).getTimezoneOffset() * MINUTE;
  const first = Math.ceil((from - offset) / step) * step + offset;
  const ticks: number[] = [];
  for (let t = first; t <= to; t += step) ticks.push(t);
  const time = (t: number, seconds: boolean) =>
    new Date(t).toLocaleTimeString(undefined, {
      hour: '2-digit',
      minute: '2-digit',
      ...(seconds ? { second: '2-digit' } : {}),
      hourCycle: 'h23',
    });
  const date = (t: number) =>
    new Date(t).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  if (step >= DAY) return { ticks, format: date };
  const clock = (t: number) => time(t, step < MINUTE);
  // A clock time comes back each day: over a day or more, the date goes with it; and the hour
  // a clock is set back comes twice that day: then the zone (EDT, EST) goes with it too.
  const zone = (t: number) =>
    new Date(t).toLocaleTimeString(undefined, { timeZoneName: 'short' }).split(' ').slice(-1)[0]!;
  const formats = [
    clock,
    (t: number) => `${date(t)} ${clock(t)}`,
    (t: number) => `${date(t)} ${clock(t)} ${zone(t)}`,
  ];
  const format = formats.find((f) => new Set(ticks.map(f)).size === ticks.length) ?? formats[2]!;
  return { ticks, format };
}

/** "Mar 3, 14:02 – 14:07" or "Mar 3, 14:02 – Mar 4, 09:15": the span shown, in local time. */
function spanText(from: number, to: number): string {
  const d = (t: number) =>
    new Date(t).toLocaleDateString(undefined, { month: 'short', day: 'numeric', year: 'numeric' });
  // To the second when it all happened within a couple of minutes.
  const h = (t: number) =>
    new Date(t).toLocaleTimeString(undefined, {
      hour: '2-digit',
      minute: '2-digit',
      ...(to - from < 2 * MINUTE ? { second: '2-digit' } : {}),
      hourCycle: 'h23',
    });
  return d(from) === d(to)
    ? `${d(from)}, ${h(from)} – ${h(to)}`
    : `${d(from)}, ${h(from)} – ${d(to)}, ${h(to)}`;
}

/** Round values 1, 2, 2.5 or 5 × 10^k apart, about `count` of them, from `lo` or under to `hi` or over. */
function niceTicks(lo: number, hi: number, count = 5): number[] {
  const raw = Math.max(hi - lo, 1) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => st >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.floor(lo / step) * step; ; t += step) {
    ticks.push(Number(t.toPrecision(12)));
    if (t >= hi) return ticks;
  }
}

const tooltipStyle = {
  contentStyle: {
    background: 'var(--tooltip-bg)',
    border: '1px solid var(--border)',
    color: 'var(--text)',
  },
  cursor: { stroke: 'var(--muted)' },
  labelFormatter: (t: unknown) =>
    new Date(Number(t)).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }),
};

export function HistoryChart({
  vaultId,
  liquidationBps,
  warningBps,
}: {
  vaultId: number;
  liquidationBps: number;
  warningBps: number;
}) {
  const [range, setRange] = useState<number>(RANGES[0].ms);
  // Rounded to the minute so the query key is stable between renders.
  const toMs = Math.ceil(Date.now() / 60_000) * 60_000;
  const history = useApi('vaults.history', { vaultId, fromMs: toMs - range, toMs, maxPoints: 300 });
  // The same query as the page's: the liquidation price it shows, not a second reckoning.
  const vault = useApi('vaults.get', { vaultId });
  const liqPriceCents = vault.data?.liquidationPriceCents ?? null;
  const data = useMemo(
    () =>
      (history.data ?? []).map((p) => ({
        ts: p.ts,
        ratioBps: p.ratioBps,
        priceCents: p.priceCents,
        // Drawn in % and in dollars; what is written comes from the integers above.
        ratio: p.ratioBps === null ? null : Math.min(p.ratioBps, 100_000) / 100,
        price: p.priceCents / 100,
      })),
    [history.data],
  );
  const first = data[0];
  const last = data[data.length - 1];
  // At least ten seconds, so a vault opened moments ago still gets a few readable ticks.
  const to = last?.ts ?? 0;
  const from = Math.min(first?.ts ?? 0, to - 10 * SECOND);
  const axis = useMemo(() => timeTicks(from, to), [from, to]);
  const ratios = data.flatMap((p) => (p.ratioBps === null ? [] : [p.ratioBps]));
  const prices = data.map((p) => p.priceCents);
  const drawn = data.flatMap((p) => (p.ratio === null ? [] : [p.ratio]));
  // Each axis in round steps, from 100 % (or lower) so the lines and their labels have room,
  // and down to the liquidation price, so how far the price is from it shows.
  const ratioTicks = niceTicks(Math.min(100, ...drawn), Math.max(warningBps / 100 + 20, ...drawn));
  const priceTicks = niceTicks(
    Math.min(...prices, liqPriceCents ?? Infinity) * 0.0095,
    Math.max(...prices, liqPriceCents ?? 0) * 0.0102,
    4,
  );
  const xAxis = (
    <XAxis
      dataKey="ts"
      type="number"
      scale="time"
      domain={[from, to]}
      ticks={axis.ticks}
      interval={0}
      tickFormatter={axis.format}
      stroke={COLOR.axis}
      fontSize={12}
    />
  );
  /** One of the two small charts: the same data, grid and time axis, so they read as one. */
  const smallChart = (testId: string, children: React.ReactNode) => (
    <div className="chart-box" data-testid={testId}>
      <ResponsiveContainer width="100%" height={190}>
        <LineChart
          data={data}
          syncId={`vault-${vaultId}-history`}
          margin={{ top: 12, right: 16, bottom: 0, left: 4 }}
          accessibilityLayer={false}
        >
          <CartesianGrid stroke={COLOR.grid} strokeDasharray="3 3" />
          {xAxis}
          {children}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
  const yAxis = (color: string, ticks: number[], format: (v: number) => string) => (
    <YAxis
      stroke={color}
      fontSize={12}
      width={72}
      tickFormatter={format}
      domain={[ticks[0]!, ticks[ticks.length - 1]!]}
      ticks={ticks}
      interval={0}
    />
  );
  /** A dashed level with its name written on the chart. */
  const level = (
    y: number,
    color: string,
    value: string,
    position: 'insideTopLeft' | 'insideBottomLeft',
  ) => (
    <ReferenceLine
      y={y}
      stroke={color}
      strokeDasharray="4 4"
      label={{ value, position, className: 'reference-label', fill: color, fontSize: 12 }}
    />
  );

  return (
    <div className="chart" data-testid="history-chart">
      <div className="row gap" role="group" aria-label="Time range">
        {RANGES.map((r) => (
          <button
            key={r.label}
            type="button"
            className={`button small ${range === r.ms ? 'primary' : 'ghost'}`}
            aria-pressed={range === r.ms}
            onClick={() => setRange(r.ms)}
          >
            {r.label}
          </button>
        ))}
      </div>
      {history.isPending && <Loading what="Loading history" />}
      <ErrorNote error={history.error} />
      {history.data && data.length === 0 && <Empty title="No price history in this range yet" />}
      {data.length > 0 && (
        <figure className="chart-figure">
          {/* The charts' text alternative: what a screen reader says instead of the pictures. */}
          <p className="visually-hidden" data-testid="chart-summary">
            {ratios.length > 0
              ? `Collateral ratio from ${spanText(from, to)}: between ${pct(Math.min(...ratios))} and ${pct(Math.max(...ratios))}, ${last!.ratioBps === null ? 'no debt' : pct(last!.ratioBps)} at the end; the vault is liquidated under ${pct(liquidationBps)}. `
              : `No debt from ${spanText(from, to)}, so no collateral ratio. `}
            {`BTC price between ${usd(Math.min(...prices))} and ${usd(Math.max(...prices))}, ${usd(last!.priceCents)} at the end`}
            {liqPriceCents !== null
              ? `; this vault is liquidated if it falls under ${usd(liqPriceCents)}.`
              : '.'}
          </p>
          <div aria-hidden="true">
            <h3 className="chart-title" style={{ color: COLOR.ratio }}>
              Collateral ratio, %
            </h3>
            {ratios.length === 0 ? (
              <p className="muted small" data-testid="ratio-chart-empty">
                No debt in this range, so no ratio to draw.
              </p>
            ) : (
              smallChart(
                'ratio-chart',
                <>
                  {yAxis(COLOR.ratio, ratioTicks, (v) => `${v} %`)}
                  <Tooltip
                    {...tooltipStyle}
                    formatter={(_v, _n, item) => {
                      const bps = (item.payload as { ratioBps: number | null }).ratioBps;
                      return [bps === null ? 'no debt' : pct(bps), 'Ratio'];
                    }}
                  />
                  {/* Under its line, the warning's over its own: they never overlap. */}
                  {level(
                    liquidationBps / 100,
                    COLOR.liquidation,
                    `Liquidation ${pct(liquidationBps)}`,
                    'insideTopLeft',
                  )}
                  {level(
                    warningBps / 100,
                    COLOR.warning,
                    `Warning ${pct(warningBps)}`,
                    'insideBottomLeft',
                  )}
                  <Line
                    type="stepAfter"
                    dataKey="ratio"
                    name="Ratio"
                    stroke={COLOR.ratio}
                    dot={false}
                    strokeWidth={2}
                    connectNulls={false}
                    isAnimationActive={false}
                  />
                </>,
              )
            )}
            <h3 className="chart-title" style={{ color: COLOR.price }}>
              BTC price, USD
            </h3>
            {smallChart(
              'price-chart',
              <>
                {yAxis(COLOR.price, priceTicks, (v) => `$${Math.round(v).toLocaleString('en-US')}`)}
                <Tooltip
                  {...tooltipStyle}
                  formatter={(_v, _n, item) => [
                    usd((item.payload as { priceCents: number }).priceCents),
                    'BTC price',
                  ]}
                />
                {liqPriceCents !== null &&
                  level(
                    liqPriceCents / 100,
                    COLOR.liquidation,
                    `Liquidation price ${usd(liqPriceCents)}`,
                    'insideBottomLeft',
                  )}
                <Line
                  type="linear"
                  dataKey="price"
                  name="BTC price"
                  stroke={COLOR.price}
                  dot={false}
                  strokeWidth={2}
                  isAnimationActive={false}
                />
              </>,
            )}
          </div>
          <figcaption className="muted small" data-testid="chart-span">
            {spanText(from, to)}, your local time
          </figcaption>
        </figure>
      )}
    </div>
  );
}
