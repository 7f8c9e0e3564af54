// Fault injection for tests of the recovery paths: the worker reads FUTURES_WORKER_FAULT once and,
// at the point it names, ends its own process with SIGKILL, as a crash would (no drain, no ack).
//
//   FUTURES_WORKER_FAULT=<point>          every task
//   FUTURES_WORKER_FAULT=<point>:<name>   only tasks that call the exported function <name>
//
// Points: crash-after-receive (the message is in hand, nothing checked yet: only the consumer's
// max_deliver ends such a task), crash-before-start (checks done, the task not started: the
// worker's own maxAttempts count ends it), crash-after-store-before-ack (the outcome is stored
// and the message not acknowledged: the redelivery only acknowledges). One point does not crash:
// stall-before-store (the task has run; its outcome waits three ack waits before it is stored,
// as a slow store would: the message must stay in progress meanwhile). Without the variable,
// nothing happens; the worker never reads it anywhere else.

/** Where a worker can be made to crash. */
export type FaultPoint =
  | "crash-after-receive"
  | "crash-before-start"
  | "crash-after-store-before-ack"
  | "stall-before-store";

const POINTS: readonly string[] = [
  "crash-after-receive",
  "crash-before-start",
  "crash-after-store-before-ack",
  "stall-before-store",
];

/** The environment variable a worker reads its fault from. */
export const FAULT_VARIABLE = "FUTURES_WORKER_FAULT";

/** A fault as configured: a point, and optionally the one function it applies to. */
export interface Fault {
  point: FaultPoint;
  name: string | undefined;
}

/**
 * Reads the fault from the environment (no permission to read it means none).
 *
 * @throws {TypeError} for a value that names no point, quoting it
 */
export function readFault(): Fault | undefined {
  let value: string | undefined;
  try {
    value = Deno.env.get(FAULT_VARIABLE);
  } catch {
    return undefined;
  }
  if (!value) return undefined;
  const [point, name] = value.split(":", 2) as [string, string | undefined];
  if (!POINTS.includes(point)) {
    throw new TypeError(
      `Cannot start the worker as '${FAULT_VARIABLE}' must be one of ${
        POINTS.join(", ")
      } (optionally ':<function name>'): received ${value}`,
    );
  }
  return { point: point as FaultPoint, name: name || undefined };
}

function applies(fault: Fault | undefined, point: FaultPoint, name: string): boolean {
  return fault !== undefined && fault.point === point &&
    (fault.name === undefined || fault.name === name);
}

/** Ends this process at once when `fault` is set for `point` and the function `name`. */
export function crashAt(fault: Fault | undefined, point: FaultPoint, name: string): void {
  if (applies(fault, point, name)) Deno.kill(Deno.pid, "SIGKILL");
}

/** Waits `ms` when `fault` is set for `point` and the function `name`; resolves at once otherwise. */
export function stallAt(
  fault: Fault | undefined,
  point: FaultPoint,
  name: string,
  ms: number,
): Promise<void> | undefined {
  if (!applies(fault, point, name)) return undefined;
  return new Promise((resolve) => setTimeout(resolve, ms));
}
