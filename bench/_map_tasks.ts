// Task module of the map benchmark against Python: the same two functions as its Python side.

/** `x + 1`: the tiny task. */
export function inc(x: number): number {
  return x + 1;
}

/** Whether `n` is prime, by trial division: the CPU-bound task (the same loop as Python's). */
export function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}
