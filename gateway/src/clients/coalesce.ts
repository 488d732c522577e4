/**
 * Collects the calls made in one turn of the event loop and makes them as batched calls of at
 * most `maxBatch` items: a burst of connects asks a service once, not once per socket. `run`
 * answers a batch in order; an `Error` in its answer rejects that item alone.
 */
export class TurnBatcher<I, O> {
  private queued: Array<{ item: I; resolve(value: O): void; reject(error: unknown): void }> = [];

  constructor(
    private readonly run: (items: I[]) => Promise<Array<O | Error>>,
    private readonly maxBatch: number,
    /** Called as the turn's calls go out, before the first batch is made. */
    private readonly onFlush?: () => void,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      if (this.queued.length === 0) setImmediate(() => this.flush());
      this.queued.push({ item, resolve, reject });
    });
  }

  private flush(): void {
    this.onFlush?.();
    const queued = this.queued;
    this.queued = [];
    for (let i = 0; i < queued.length; i += this.maxBatch) {
      const chunk = queued.slice(i, i + this.maxBatch);
      this.run(chunk.map((entry) => entry.item)).then(
        (answers) =>
          chunk.forEach((entry, k) => {
            const answer = k < answers.length ? answers[k] : new Error('no answer in the batch');
            if (answer instanceof Error) entry.reject(answer);
            else entry.resolve(answer as O);
          }),
        (error: unknown) => {
          for (const entry of chunk) entry.reject(error);
        },
      );
    }
  }
}

/**
 * Single-key lookups batched per turn of the loop (a `TurnBatcher` of keys). Asks for the same
 * key in the same turn share one answer; a later turn asks again, so no answer predates its ask
 * by more than the turn.
 */
export class CallCoalescer<K, V> {
  private readonly thisTurn = new Map<K, Promise<V>>();
  private readonly batcher: TurnBatcher<K, V>;

  constructor(fetch: (keys: K[]) => Promise<Map<K, V>>, maxBatch: number) {
    this.batcher = new TurnBatcher(
      async (keys) => {
        const values = await fetch(keys);
        return keys.map((key) => values.get(key) ?? new Error(`no answer for ${String(key)}`));
      },
      maxBatch,
      () => this.thisTurn.clear(),
    );
  }

  get(key: K): Promise<V> {
    const shared = this.thisTurn.get(key);
    if (shared) return shared;
    const asked = this.batcher.add(key);
    this.thisTurn.set(key, asked);
    return asked;
  }
}
