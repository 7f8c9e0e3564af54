// Who holds a Lock, and whether that thread is still alive. Each Web Worker that takes a lock
// holds a Web Lock (`navigator.locks`) named after its owner id for as long as it lives: Deno
// releases a worker's Web Locks when it ends in any way (`self.close()`, `Deno.exit()`, an
// uncaught error, `terminate()`), and they are visible from every thread of the process, so
// `navigator.locks.query()` tells a live holder from a dead one. The main thread is owner 1 and
// always alive (when it ends, so does everything). 0 means "unknown", never taken for dead.

import { isMainThread } from "./_shared.ts";

const PREFIX = "@concurrent/futures/sync/owner/";
/** The main thread's owner id. */
const MAIN = 1;

/** The part of the Web Locks API used here (Deno's types leave it out). */
interface Locks {
  request(name: string, callback: () => Promise<void>): Promise<void>;
  query(): Promise<{ held?: { name?: string }[]; pending?: { name?: string }[] }>;
}

function webLocks(): Locks | undefined {
  return (navigator as { locks?: Locks }).locks;
}

let self = 0;

/** This thread's owner id, registering it with a Web Lock on first use in a worker. */
export function ownerId(): number {
  if (self !== 0) return self;
  if (isMainThread) return self = MAIN;
  const locks = webLocks();
  if (locks === undefined) return self = 0;
  // Random ids: two workers would share one with a chance of 1 in 2^31.
  const id = 2 + Math.floor(Math.random() * (0x7fff_ffff - 2));
  // Held until this worker ends; the grant is immediate, even if the worker then blocks.
  locks.request(PREFIX + id, () => new Promise<void>(() => {})).catch(() => {});
  return self = id;
}

/** Whether the thread with this owner id is alive (true when it cannot be told). */
export async function ownerAlive(id: number): Promise<boolean> {
  if (id <= MAIN) return true;
  return (await liveOwners())(id);
}

/**
 * One look at which threads are alive: a test that says, for an owner id, whether its thread was
 * alive at the time (true when it cannot be told).
 */
export async function liveOwners(): Promise<(id: number) => boolean> {
  const locks = webLocks();
  if (locks === undefined) return () => true;
  const { held = [], pending = [] } = await locks.query();
  const names = new Set<string | undefined>();
  for (const lock of held) names.add(lock.name);
  for (const lock of pending) names.add(lock.name);
  return (id) => id <= MAIN || names.has(PREFIX + id);
}
