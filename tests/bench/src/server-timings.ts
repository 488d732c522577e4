/**
 * Our stack's own latency histograms (Prometheus text from /metrics), read before and after a
 * step: where a message's time goes inside the stack, for the docs' "what limits it".
 */
export type MetricSums = Map<string, { sum: number; count: number }>;

const SAMPLE = /^(\w+)_(sum|count)(\{[^}]*\})? ([\d.e+-]+)$/;

async function scrape(urls: string[]): Promise<MetricSums> {
  const sums: MetricSums = new Map();
  for (const url of urls) {
    const text = await (await fetch(url)).text();
    for (const line of text.split('\n')) {
      const match = SAMPLE.exec(line);
      if (!match) continue;
      const [, name, part, labels = '', value] = match;
      const key = `${name}${labels
        .replace(/,?(service|outcome)="[^"]*"/g, '')
        .replace('{,', '{')
        .replace('{}', '')}`;
      const entry = sums.get(key) ?? { sum: 0, count: 0 };
      if (part === 'sum') entry.sum += Number(value);
      else entry.count += Number(value);
      sums.set(key, entry);
    }
  }
  return sums;
}

/** Starts a measurement; the returned function gives each histogram's mean (ms) over the step. */
export async function measureServerTimings(urls: string[]): Promise<() => Promise<Record<string, number>>> {
  const before = await scrape(urls);
  return async () => {
    const after = await scrape(urls);
    const means: Record<string, number> = {};
    for (const [key, { sum, count }] of after) {
      const start = before.get(key) ?? { sum: 0, count: 0 };
      if (count - start.count > 0) means[key] = ((sum - start.sum) / (count - start.count)) * 1000;
    }
    return means;
  };
}
