/**
 * Turns many single-key lookups made in the same turn of the event loop into one batched call:
 * a burst of connects asks the rooms service once, not once per socket. Concurrent asks for the
 * same key share one answer.
 */
export class CallCoalescer<K, V> {
  private pending = new Map<K, Array<{ resolve(value: V): void; reject(error: unknown): void }>>();
  private scheduled = false;

  constructor(
    private readonly fetch: (keys: K[]) => Promise<Map<K, V>>,
    private readonly maxBatch: number,
  ) {}

  get(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const waiters = this.pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = new Map();
    const keys = [...batch.keys()];
    for (let i = 0; i < keys.length; i += this.maxBatch) {
      const chunk = keys.slice(i, i + this.maxBatch);
      this.fetch(chunk).then(
        (values) => {
          for (const key of chunk) {
            const value = values.get(key);
            for (const waiter of batch.get(key) ?? []) {
              if (value === undefined) waiter.reject(new Error(`no answer for ${String(key)}`));
              else waiter.resolve(value);
            }
          }
        },
        (error: unknown) => {
          for (const key of chunk) for (const waiter of batch.get(key) ?? []) waiter.reject(error);
        },
      );
    }
  }
}
