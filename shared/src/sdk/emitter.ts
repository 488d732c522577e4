/** A tiny typed event emitter (no Node dependency). */
export class Emitter<Events extends Record<string, unknown[]>> {
  private readonly listeners: { [K in keyof Events]?: Set<(...args: Events[K]) => void> } = {};

  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): () => void {
    const set = this.listeners[event] ?? new Set();
    this.listeners[event] = set;
    set.add(listener);
    return () => set.delete(listener);
  }

  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    for (const listener of this.listeners[event] ?? []) {
      try {
        listener(...args);
      } catch (error) {
        console.error(`chat client: a ${String(event)} listener threw`, error);
      }
    }
  }
}
