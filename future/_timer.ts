// Timers for waits of any length: setTimeout fires at once for a delay past 2^31 - 1 ms.

// A longer wait is a chain of timers.
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * Calls `fn` once `ms` milliseconds have passed, for any finite delay; internal to the library.
 *
 * @param fn the function to call
 * @param ms the delay in milliseconds
 * @returns a function that cancels the call
 */
export function startTimer(fn: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout>;
  const arm = (left: number) => {
    timer = left > MAX_TIMER_DELAY
      ? setTimeout(() => arm(left - MAX_TIMER_DELAY), MAX_TIMER_DELAY)
      : setTimeout(fn, left);
  };
  arm(ms);
  return () => clearTimeout(timer);
}
