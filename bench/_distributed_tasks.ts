// Task module of bench/distributed_bench.ts.

/** A tiny task. */
export function add(a: number, b: number): number {
  return a + b;
}

/**
 * The first run writes `dir/ran` (its PID and its worker's PID) and blocks until its worker is
 * killed; a run after that returns `value` at once.
 */
export async function blockFirst(dir: string, value: number): Promise<number> {
  try {
    Deno.statSync(`${dir}/ran`);
    return value;
  } catch {
    Deno.writeTextFileSync(`${dir}/ran`, `${Deno.pid} ${Deno.ppid}`);
    await new Promise(() => {});
    return value;
  }
}

/** A tiny task for map(). */
export function inc(n: number): number {
  return n + 1;
}
