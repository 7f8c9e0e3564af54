// One message form for bad arguments, whichever layer checks them (future/_options.ts).
import assert from "node:assert/strict";
import {
  AsyncPoolExecutor,
  Barrier,
  Future,
  Semaphore,
  spawn,
  wait,
  WorkerPoolExecutor,
} from "../../mod.ts";
import { DistributedExecutor } from "../../distributed/mod.ts";
import { checkAliases, checkOneOf } from "../../future/_options.ts";

const FORM = /^Cannot [^']+ as '[^']+' must be .+: received .+$/;

function refused(fn: () => unknown, Class: ErrorConstructor, text: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof Class, String(error));
    assert.match(error.message, FORM);
    assert.ok(error.message.includes(text), error.message);
    return true;
  });
}

Deno.test("checkTimeout() and its users share one message form across layers", async () => {
  refused(() => new Semaphore(-1), RangeError, `'permits' must be an integer from 0 to`);
  refused(
    () => new AsyncPoolExecutor({ maxWorkers: 0 }),
    RangeError,
    "'maxWorkers' must be a positive integer: received 0",
  );
  refused(
    () => new WorkerPoolExecutor({ onCrash: "stop" as "break" }),
    TypeError,
    `'onCrash' must be "restart" or "break": received "stop"`,
  );
  refused(
    () => new DistributedExecutor({ servers: "nats://x", isolation: "thread" as "worker" }),
    TypeError,
    `'isolation' must be one of "process", "worker", "inline": received "thread"`,
  );
  refused(
    () => new DistributedExecutor({ servers: 5 as unknown as string }),
    TypeError,
    "'servers' must be a URL or a non-empty list of URLs: received 5",
  );
  await assert.rejects(spawn(""), (error: unknown) => {
    assert.ok(error instanceof TypeError);
    assert.equal(
      error.message,
      `Cannot spawn an actor as 'module' must be URLs or paths: received ""`,
    );
    return true;
  });
  await assert.rejects(new Barrier(2).wait({ timeout: -1 }), (error: unknown) => {
    assert.ok(error instanceof RangeError);
    assert.match(error.message, FORM);
    return true;
  });
  await assert.rejects(new Future().result({ timeout: -1 }), RangeError);
  await assert.rejects(
    async () => await wait([], { timeout: "1" as unknown as number }),
    (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, FORM);
      return true;
    },
  );
});

Deno.test("checkOneOf() and checkAliases() name the option and the value", () => {
  assert.equal(checkOneOf("x", "k", undefined, ["a", "b", "c"]), undefined);
  refused(() => checkOneOf("x", "k", "d", ["a", "b", "c"]), TypeError, `one of "a", "b", "c"`);
  assert.deepEqual(checkAliases({ action: "x", path: "" }, { old: 1 }, { old: "now" }), { now: 1 });
  assert.throws(
    () => checkAliases({ action: "x", path: "" }, { old: 1, now: 2 }, { old: "now" }),
    /Cannot x as 'old' and 'now' are the same option: give one/,
  );
});
