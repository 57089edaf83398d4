/** A half-circle gauge of the collateral ratio from 100 % to 250 %, with the 150 % and 160 % bands. */
import { pct } from '../lib/format';
import { healthTone } from './ui';

const LO = 10_000;
const HI = 25_000;

function point(bps: number, r: number): [number, number] {
  const t = (Math.max(LO, Math.min(HI, bps)) - LO) / (HI - LO);
  const a = Math.PI * (1 - t);
  return [100 + r * Math.cos(a), 100 - r * Math.sin(a)];
}

function arc(from: number, to: number, r: number): string {
  const [x1, y1] = point(from, r);
  const [x2, y2] = point(to, r);
  return `M ${x1} ${y1} A ${r} ${r} 0 0 1 ${x2} ${y2}`;
}

export function RatioGauge({
  ratioBps,
  liquidationBps,
  warningBps,
  label = 'Collateral ratio',
}: {
  ratioBps: number | null;
  liquidationBps: number;
  warningBps: number;
  label?: string;
}) {
  const [nx, ny] = point(ratioBps ?? HI, 62);
  const tone = healthTone(ratioBps, liquidationBps, warningBps);
  return (
    <figure className="gauge" data-testid="ratio-gauge" data-bps={ratioBps ?? ''}>
      <svg
        viewBox="0 0 200 140"
        role="img"
        aria-label={`${label}: ${ratioBps === null ? 'no debt' : pct(ratioBps)}`}
      >
        <path d={arc(LO, liquidationBps, 80)} className="gauge-band danger" />
        <path d={arc(liquidationBps, warningBps, 80)} className="gauge-band warning" />
        <path d={arc(warningBps, HI, 80)} className="gauge-band ok" />
        {ratioBps !== null && (
          <line x1="100" y1="100" x2={nx} y2={ny} className={`gauge-needle tone-${tone}`} />
        )}
        <circle cx="100" cy="100" r="5" className="gauge-hub" />
        <text x="100" y="132" textAnchor="middle" className={`gauge-text tone-${tone}`}>
          {ratioBps === null ? 'No debt' : pct(ratioBps)}
        </text>
      </svg>
      <figcaption className="muted small">
        {label} · liquidation under {pct(liquidationBps)}, warning under {pct(warningBps)}
      </figcaption>
    </figure>
  );
}
