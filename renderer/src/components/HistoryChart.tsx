/** The vault's collateral ratio and the BTC price over time (recharts). */
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
  Legend,
} from 'recharts';
import { useApi } from '../api/context';
import { pct, usd } from '../lib/format';
import { Empty, ErrorNote, Loading } from './ui';

const RANGES = [
  { label: '1 h', ms: 3_600_000 },
  { label: '24 h', ms: 86_400_000 },
  { label: '7 d', ms: 7 * 86_400_000 },
] as const;

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
  const data = useMemo(
    () =>
      (history.data ?? []).map((p) => ({
        ts: p.ts,
        ratio: p.ratioBps === null ? null : Math.min(p.ratioBps, 100_000) / 100,
        price: p.priceCents / 100,
      })),
    [history.data],
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
        <div className="chart-box">
          <ResponsiveContainer width="100%" height={260}>
            <LineChart data={data} margin={{ top: 10, right: 10, bottom: 0, left: 0 }}>
              <CartesianGrid stroke="#232a36" strokeDasharray="3 3" />
              <XAxis
                dataKey="ts"
                type="number"
                domain={['dataMin', 'dataMax']}
                scale="time"
                tickFormatter={(t: number) =>
                  new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
                }
                stroke="#8a94a6"
                fontSize={12}
              />
              <YAxis
                yAxisId="ratio"
                orientation="left"
                stroke="#2fbf71"
                fontSize={12}
                tickFormatter={(v: number) => `${v} %`}
                domain={[100, 'auto']}
                width={64}
              />
              <YAxis
                yAxisId="price"
                orientation="right"
                stroke="#f7931a"
                fontSize={12}
                tickFormatter={(v: number) => `$${Math.round(v).toLocaleString('en-US')}`}
                domain={['auto', 'auto']}
                width={80}
              />
              <Tooltip
                contentStyle={{
                  background: '#131822',
                  border: '1px solid #232a36',
                  color: '#e6e9ef',
                }}
                labelFormatter={(t) => new Date(Number(t)).toLocaleString()}
                formatter={(value, name) =>
                  name === 'Ratio'
                    ? [value === null ? 'no debt' : pct(Math.round(Number(value) * 100)), name]
                    : [usd(Math.round(Number(value) * 100)), name]
                }
              />
              <Legend />
              <ReferenceLine
                yAxisId="ratio"
                y={liquidationBps / 100}
                stroke="#f0524f"
                strokeDasharray="4 4"
              />
              <ReferenceLine
                yAxisId="ratio"
                y={warningBps / 100}
                stroke="#f5a524"
                strokeDasharray="4 4"
              />
              <Line
                yAxisId="ratio"
                type="stepAfter"
                dataKey="ratio"
                name="Ratio"
                stroke="#2fbf71"
                dot={false}
                strokeWidth={2}
                connectNulls={false}
                isAnimationActive={false}
              />
              <Line
                yAxisId="price"
                type="linear"
                dataKey="price"
                name="BTC price"
                stroke="#f7931a"
                dot={false}
                strokeWidth={1.5}
                isAnimationActive={false}
              />
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
    </div>
  );
}
