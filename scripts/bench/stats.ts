export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  /** Operations per second over the whole sequential run. */
  perSecond: number;
}

/** Summary of sequential samples in milliseconds. */
export function summarize(samplesMs: number[]): Summary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const total = samplesMs.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    p50: at(0.5),
    p99: at(0.99),
    mean: total / sorted.length,
    perSecond: (sorted.length * 1000) / total,
  };
}

export async function sample(
  n: number,
  fn: () => Promise<void>,
  warmup = Math.min(50, n),
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}
