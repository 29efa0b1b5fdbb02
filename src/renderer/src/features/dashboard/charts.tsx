// Plain SVG charts: bars with value labels, sized by a viewBox so they scale with their card. No
// chart library: the dashboard needs bars and nothing else.
import { Text } from '@mantine/core';

export interface Bar {
  label: string;
  value: number;
  color?: string;
  title?: string;
}

const fmt = (v: number): string =>
  v >= 1000 ? `${(v / 1000).toFixed(v >= 10_000 ? 0 : 1)}k` : String(Math.round(v * 100) / 100);

/** Vertical bars; labels under each bar (every `labelEvery`-th when there are many). */
export function BarChart({
  bars,
  height = 160,
  labelEvery = 1,
  testId,
}: {
  bars: Bar[];
  height?: number;
  labelEvery?: number;
  testId?: string;
}): React.JSX.Element {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const w = 600;
  const top = 16;
  const bottom = 22;
  const plot = height - top - bottom;
  const slot = w / Math.max(1, bars.length);
  const barW = Math.max(2, slot * 0.72);
  if (bars.length === 0)
    return (
      <Text size="sm" c="dimmed">
        No data yet.
      </Text>
    );
  return (
    <svg
      viewBox={`0 0 ${w} ${height}`}
      width="100%"
      role="img"
      data-testid={testId}
      style={{ display: 'block' }}
    >
      <line
        x1={0}
        x2={w}
        y1={top + plot}
        y2={top + plot}
        stroke="var(--mantine-color-gray-5)"
        strokeWidth={1}
      />
      {bars.map((b, k) => {
        const h = (b.value / max) * plot;
        const x = k * slot + (slot - barW) / 2;
        return (
          <g key={k} data-value={b.value} data-label={b.label}>
            <title>{b.title ?? `${b.label}: ${b.value}`}</title>
            <rect
              x={x}
              y={top + plot - h}
              width={barW}
              height={Math.max(0, h)}
              rx={2}
              fill={b.color ?? 'var(--mantine-color-indigo-5)'}
            />
            {b.value > 0 && bars.length <= 24 && (
              <text
                x={x + barW / 2}
                y={top + plot - h - 4}
                textAnchor="middle"
                fontSize={11}
                fill="var(--mantine-color-dimmed)"
              >
                {fmt(b.value)}
              </text>
            )}
            {k % labelEvery === 0 && (
              <text
                x={x + barW / 2}
                y={height - 6}
                textAnchor="middle"
                fontSize={11}
                fill="var(--mantine-color-dimmed)"
              >
                {b.label}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

/** Horizontal bars of shares (0–1), label on the left and percentage on the right. */
export function ShareChart({ bars, testId }: { bars: Bar[]; testId?: string }): React.JSX.Element {
  const row = 22;
  const w = 600;
  const labelW = 110;
  const plotW = w - labelW - 60;
  return (
    <svg
      viewBox={`0 0 ${w} ${bars.length * row + 4}`}
      width="100%"
      role="img"
      data-testid={testId}
      style={{ display: 'block' }}
    >
      {bars.map((b, k) => (
        <g key={b.label} transform={`translate(0, ${k * row})`} data-label={b.label} data-value={b.value}>
          <title>{b.title ?? `${b.label}: ${Math.round(b.value * 100)}%`}</title>
          <text x={labelW - 8} y={15} textAnchor="end" fontSize={12} fill="currentColor">
            {b.label}
          </text>
          <rect x={labelW} y={4} width={plotW} height={14} rx={3} fill="var(--mantine-color-gray-2)" />
          <rect
            x={labelW}
            y={4}
            width={plotW * Math.min(1, Math.max(0, b.value))}
            height={14}
            rx={3}
            fill={b.color ?? 'var(--mantine-color-teal-5)'}
          />
          <text x={labelW + plotW + 8} y={15} fontSize={12} fill="var(--mantine-color-dimmed)">
            {Math.round(b.value * 100)}%
          </text>
        </g>
      ))}
    </svg>
  );
}
