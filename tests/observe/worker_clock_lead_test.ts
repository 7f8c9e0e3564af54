import assert from "node:assert/strict";
import { type Dispatch, PoolWorker, type WorkerEvents } from "../../actors/_pool_worker.ts";
import { type HostMessage, STAMPED, type WorkerMessage } from "../../actors/_protocol.ts";

/** A worker whose messages the test writes itself. */
class ScriptedWorker extends PoolWorker<string> {
  readonly exclusive = false;
  protected post(_message: HostMessage, _transfer: Transferable[]): void {}
  abortTask(): void {}
  spinning(): boolean {
    return false;
  }
  protected kill(): void {}
  receive(message: WorkerMessage): void {
    this.onMessage(message);
  }
}

function scripted(ends: number[]): ScriptedWorker {
  const events = {
    ready() {},
    initFailed() {},
    result(
      _worker: unknown,
      _item: string,
      _ok: boolean,
      _value: unknown,
      _v: unknown,
      _ms: number,
      end: number,
    ) {
      ends.push(end);
    },
    exited() {},
  } as unknown as WorkerEvents<string>;
  return new ScriptedWorker(1, events);
}

const dispatch = (): Dispatch<string> => ({
  item: "a",
  kind: "call",
  fn: { module: 0, name: "f" },
  args: [],
  transfer: undefined,
});

const epoch = () => performance.timeOrigin + performance.now();

Deno.test("A worker whose clock runs ahead of this thread's has its task ends moved back onto this thread's clock", () => {
  const ends: number[] = [];
  const worker = scripted(ends);
  // The worker's origin says its clock is 5 ms ahead: its reading as it sent `ready` is later
  // than this thread's clock when `ready` arrives.
  const origin = performance.timeOrigin + 5;
  const sentAt = performance.now();
  worker.receive({ type: "ready", origin, now: sentAt } as WorkerMessage);
  const received = epoch();
  const task = dispatch();
  assert.deepEqual(worker.send([task], true), []);
  // A task that ended, on the worker's clock, as it sent `ready` ended by the time it arrived
  // on this thread's.
  worker.receive([STAMPED, task.seq, 0.1, sentAt, 42] as unknown as WorkerMessage);
  assert.equal(ends.length, 1);
  assert.ok(ends[0]! <= received, `the end ${ends[0]} is after ${received}`);
  assert.ok(ends[0]! > received - 5, `the end ${ends[0]} was moved back more than the lead`);
});

Deno.test("A worker whose clock runs behind keeps its origin (a lag cannot be told from the message's way)", () => {
  const ends: number[] = [];
  const worker = scripted(ends);
  const origin = performance.timeOrigin - 5;
  worker.receive({ type: "ready", origin, now: performance.now() } as WorkerMessage);
  const task = dispatch();
  assert.deepEqual(worker.send([task], true), []);
  const workerNow = performance.now();
  worker.receive([STAMPED, task.seq, 0.1, workerNow, 42] as unknown as WorkerMessage);
  assert.ok(Math.abs(ends[0]! - (origin + workerNow)) < 1e-3);
});
