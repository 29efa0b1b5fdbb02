// How footage times read: wall-clock to the second (UTC, as the cameras' clocks are stored), or the
// video time when a recording has no clock time.
export function formatClock(ms: number | null, videoSeconds: number): string {
  if (ms === null) return `${videoSeconds.toFixed(1)} s into the video`;
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

export function formatSpan(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(0)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** `2026-12-04T08:15` (datetime-local input, read as UTC) ↔ epoch ms. */
export const fromInput = (v: string): number | undefined => {
  if (!v) return undefined;
  const t = Date.parse(`${v.length === 16 ? `${v}:00` : v}Z`);
  return Number.isFinite(t) ? t : undefined;
};
export const toInput = (ms: number | undefined): string =>
  ms === undefined ? '' : new Date(ms).toISOString().slice(0, 19);
