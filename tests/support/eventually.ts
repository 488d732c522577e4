/**
 * Retries an assertion until it passes, for state that converges without a signal to await
 * (the rooms read model, presence expiry). Bounded; the last failure is rethrown.
 */
export async function eventually<T>(assertion: () => Promise<T>, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
