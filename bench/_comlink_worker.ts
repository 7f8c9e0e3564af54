// The Web Worker side of proxy_bench.ts's comlink contender: the same two tasks, exposed with
// comlink, calling a callback the host passed with comlink's proxy().

// deno-lint-ignore no-import-prefix
import * as Comlink from "npm:comlink@4.4.2";

Comlink.expose({
  fireAndForget(n: number, progress: (i: number) => unknown): number {
    for (let i = 0; i < n; i++) void progress(i);
    return n;
  },
  async awaited(n: number, get: (i: number) => number): Promise<number> {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += await get(i);
    return sum;
  },
});
