/** Admits a key at most once per window; forgets keys once their window has passed. */
export class WindowThrottle {
  private readonly last = new Map<string, number>();

  constructor(private readonly windowMs: number) {}

  admit(key: string, now = Date.now()): boolean {
    const previous = this.last.get(key);
    if (previous !== undefined && now - previous < this.windowMs) return false;
    this.last.set(key, now);
    if (this.last.size > 50_000) this.prune(now);
    return true;
  }

  private prune(now: number): void {
    for (const [key, at] of this.last) if (now - at >= this.windowMs) this.last.delete(key);
  }
}
