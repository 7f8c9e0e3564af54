// Promises the library hands out already failed reject a microtask later, not at once.
//
// Deno keeps the promises that reject with no handler in a list, and takes each out of it with a
// search of the list when a handler comes. A program that makes many failed promises before it
// handles them, as `Promise.allSettled(futures.map((f) => f.result()))` does, pays for that
// quadratically: 30k failed futures took 2.4 s here, 100k 27 s. A promise that rejects a
// microtask later has its handlers by then (the program's turn goes on first), and never enters
// that list; one that is never handled is still reported as unhandled.

/** A promise that rejects with `error` a microtask from now. */
export function rejectSoon<T = never>(error: unknown): Promise<T> {
  const { promise, reject } = Promise.withResolvers<T>();
  queueMicrotask(() => reject(error));
  return promise;
}
