import assert from "node:assert/strict";
import { type Candidate, depth, leastBusy, pickWorker } from "../../executors/_balancer.ts";

function worker(fields: Partial<Candidate> & { name: string }): Candidate & { name: string } {
  return { state: "ready", inflight: 0, dispatched: 0, exclusive: false, runMs: 0.01, ...fields };
}

const none = () => 0;

Deno.test("depth() keeps about 10 ms of work in flight, between 1 and 128 tasks", () => {
  assert.equal(depth(worker({ name: "new", runMs: undefined })), 1);
  assert.equal(depth(worker({ name: "slow", runMs: 50 })), 1);
  assert.equal(depth(worker({ name: "2ms", runMs: 2 })), 5);
  assert.equal(depth(worker({ name: "fast", runMs: 0.0001 })), 128);
});

Deno.test("pickWorker() takes the least busy ready worker with room", () => {
  const workers = [
    worker({ name: "a", inflight: 3 }),
    worker({ name: "b", inflight: 1 }),
    worker({ name: "c", state: "starting" }),
  ];
  const rules = { exclusive: false, placed: none, maxTasksPerWorker: Infinity };
  assert.equal(pickWorker(workers, rules)?.name, "b");
  // Tasks placed in this round count as load.
  assert.equal(
    pickWorker(workers, { ...rules, placed: (w) => w === workers[1] ? 5 : 0 })?.name,
    "a",
  );
});

Deno.test("pickWorker() gives an exclusive task only an idle worker, and skips the reserved one", () => {
  const busy = worker({ name: "busy", inflight: 1 });
  const idle = worker({ name: "idle" });
  const rules = { exclusive: true, placed: none, maxTasksPerWorker: Infinity };
  assert.equal(pickWorker([busy], rules), undefined);
  assert.equal(pickWorker([busy, idle], rules)?.name, "idle");
  assert.equal(
    pickWorker([busy, idle], { ...rules, exclusive: false, reserved: idle })?.name,
    "busy",
  );
});

Deno.test("pickWorker() respects maxTasksPerWorker, counting tasks placed in this round", () => {
  const w = worker({ name: "w", dispatched: 9 });
  const rules = { exclusive: false, placed: none, maxTasksPerWorker: 10 };
  assert.equal(pickWorker([w], rules)?.name, "w");
  assert.equal(pickWorker([w], { ...rules, placed: () => 1 }), undefined);
});

Deno.test("leastBusy() ignores workers that are not ready", () => {
  const workers = [
    worker({ name: "a", inflight: 2 }),
    worker({ name: "b", inflight: 0, state: "starting" }),
    worker({ name: "c", inflight: 1 }),
  ];
  assert.equal(leastBusy(workers, none)?.name, "c");
});

Deno.test("pickWorker() tops up a worker once half of its pipeline has run, not task by task", () => {
  // depth 128 for runMs 0.01: with 64 in flight the worker waits for more of its results.
  const rules = { exclusive: false, placed: none, maxTasksPerWorker: Infinity };
  assert.equal(pickWorker([worker({ name: "full", inflight: 64 })], rules), undefined);
  assert.equal(pickWorker([worker({ name: "low", inflight: 63 })], rules)?.name, "low");
  // Once chosen in a round, it takes tasks up to its depth.
  const chosen = worker({ name: "chosen", inflight: 63 });
  assert.equal(pickWorker([chosen], { ...rules, placed: () => 20 })?.name, "chosen");
});
