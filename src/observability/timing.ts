// Times an operation for a duration histogram: the outcome and the seconds it took, whether it
// succeeded or threw (the error is passed on).
export type Observe = (result: 'success' | 'error', seconds: number) => void;

export async function timed<T>(observe: Observe | undefined, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    const value = await run();
    observe?.('success', (performance.now() - started) / 1000);
    return value;
  } catch (err) {
    observe?.('error', (performance.now() - started) / 1000);
    throw err;
  }
}
