/** How many samples a load generator keeps between two collects. */
export const SAMPLE_CAPACITY = 200_000;

/** Latency samples with bounded memory (reservoir sampling), and percentiles. */
export class Samples {
  private readonly values: number[] = [];
  private seen = 0;

  constructor(private readonly capacity = SAMPLE_CAPACITY) {}

  add(value: number): void {
    this.seen++;
    if (this.values.length < this.capacity) this.values.push(value);
    else {
      const slot = Math.floor(Math.random() * this.seen);
      if (slot < this.capacity) this.values[slot] = value;
    }
  }

  take(): number[] {
    const out = this.values.splice(0);
    this.seen = 0;
    return out;
  }
}

export function percentiles(values: number[]): { p50: number; p95: number; p99: number; count: number } {
  if (values.length === 0) return { p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, count: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), count: values.length };
}

/**
 * `into.push(...values)` and `Math.max(...values)` pass every value as an argument, on the stack:
 * past about 100,000 values (one collect of a fan-out into 10,000 sockets) they throw RangeError.
 */
export function appendAll(into: number[], values: readonly number[]): void {
  for (const value of values) into.push(value);
}

/** The largest value, or -Infinity for none (see appendAll for why not `Math.max(...values)`). */
export function maxOf(values: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) if (value > max) max = value;
  return max;
}

export const now = () => performance.timeOrigin + performance.now();
