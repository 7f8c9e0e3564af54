// Waits for a cluster's changes (a worker joins or leaves, a stream depth arrives) until a
// condition holds, for at most `ms`: ordered by the watch's own events, not by sleeps.

import type { ObservedCluster } from "../../../executors/_observe.ts";

/** Resolves once `holds()` is true, checked now and after each change of `cluster`. */
export async function until(
  cluster: ObservedCluster,
  holds: () => boolean,
  what: string,
  ms = 15_000,
): Promise<void> {
  const outer = cluster.onChange;
  let wake = () => {};
  cluster.onChange = () => {
    outer?.();
    wake();
  };
  const deadline = Date.now() + ms;
  try {
    while (!holds()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting until ${what}`);
      const { promise, resolve } = Promise.withResolvers<void>();
      wake = resolve;
      const timer = setTimeout(resolve, left);
      await promise;
      clearTimeout(timer);
    }
  } finally {
    cluster.onChange = outer;
  }
}
