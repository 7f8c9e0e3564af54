import assert from "node:assert/strict";
import {
  BrokenExecutorError,
  InvalidStateError,
  spawn,
  WorkerCrashedError,
  WorkerPoolExecutor,
} from "../../mod.ts";
import type Counter from "../fixtures/actors/counter.ts";
import { runDeno } from "../executors/_worker_helpers.ts";

const COUNTER = new URL("../fixtures/actors/counter.ts", import.meta.url);
const GREETER = new URL("../fixtures/actors/greeter.ts", import.meta.url);
const BROKEN = new URL("../fixtures/actors/broken.ts", import.meta.url);

function gate(): Int32Array<SharedArrayBuffer> {
  return new Int32Array(new SharedArrayBuffer(4));
}

Deno.test("spawn() constructs the default export with args and calls its methods with types", async () => {
  await using counter = await spawn<Counter>(COUNTER, { args: [10] });
  const eleven: number = await counter.increment();
  assert.equal(eleven, 11);
  assert.equal(await counter.increment(5), 16);
  assert.equal(await counter.count(), 16);
});

Deno.test("spawn() refuses settings it would ignore: args for an object, restarts without onCrash restart", async () => {
  await assert.rejects(
    spawn(GREETER, { args: [1, 2] }),
    /default export is an object \(not a class\) takes no 'args': received 2/,
  );
  await assert.rejects(
    spawn(COUNTER, { restartLimit: { max: 1, within: 1000 } }),
    /Cannot spawn an actor as 'restartLimit' applies only with onCrash: "restart".*unset/,
  );
  await assert.rejects(
    spawn(COUNTER, { onCrash: "stop", restartBackoff: { initial: 5 } }),
    /'restartBackoff' applies only with onCrash: "restart".*received onCrash "stop"/,
  );
  // With restarts, both are taken.
  await using counter = await spawn<Counter>(COUNTER, {
    onCrash: "restart",
    restartLimit: { max: 1, within: 1000 },
    restartBackoff: { initial: 5 },
  });
  assert.equal(await counter.increment(), 1);
});

Deno.test("spawn() accepts an object as the default export", async () => {
  await using greeter = await spawn<{ greet(name: string): string }>(GREETER);
  assert.equal(await greeter.greet("Ada"), "hello, Ada");
});

Deno.test("an actor handles one message at a time, in the order sent", async () => {
  await using counter = await spawn<Counter>(COUNTER);
  const open = gate();
  const slow = counter.slowIncrement(5, open);
  const next = counter.note("after slow");
  Atomics.store(open, 0, 1);
  assert.equal(await slow, 5);
  assert.equal(await next, 2);
  assert.deepEqual(await counter.log(), ["slow 5", "after slow"]);
});

Deno.test("an actor's thrown error rejects that call with its class; the actor lives on", async () => {
  await using counter = await spawn<Counter>(COUNTER, { args: [1] });
  await assert.rejects(counter.fail("bad"), (error: unknown) => {
    return error instanceof TypeError && error.message === "bad";
  });
  assert.equal(await counter.increment(), 2);
  await assert.rejects(
    (counter as unknown as { missing(): Promise<void> }).missing(),
    /no method 'missing'/,
  );
});

Deno.test("supervision 'stop': a crash rejects the message and stops the actor", async () => {
  const counter = await spawn<Counter>(COUNTER);
  const crash = counter.crash(4);
  const queued = counter.increment();
  const error = await crash.catch((e) => e);
  assert.ok(error instanceof WorkerCrashedError);
  assert.equal(error.exitCode, 4);
  assert.ok((await queued.catch((e) => e)) instanceof WorkerCrashedError);
  // A later call says why it is stopped.
  const later = await counter.increment().catch((e) => e);
  assert.ok(later instanceof InvalidStateError);
  assert.match(later.message, /it is stopped \(.*called Deno\.exit\(4\) and is stopped\)/);
  assert.ok(later.cause instanceof WorkerCrashedError);
  await counter.stop();
  // Stopped on request, it says nothing more.
  const other = await spawn<Counter>(COUNTER);
  await other.stop();
  const stopped = await other.increment().catch((e) => e);
  assert.ok(stopped instanceof InvalidStateError);
  assert.match(stopped.message, /it is stopped$/);
  assert.equal(stopped.cause, undefined);
});

// A promise made already rejected enters Deno's list of unhandled rejections, searched each time
// one of them gets its handler: many calls collected before they are handled
// (`Promise.allSettled(items.map(...))`) took quadratic time. They reject a microtask later.
Deno.test("a call that fails at once (the actor is stopped, or an argument cannot be sent) rejects a microtask later", async () => {
  await using counter = await spawn<Counter>(COUNTER);
  const unsendable = (counter.increment as (by: unknown) => Promise<number>)(() => 1);
  assert.match(Deno.inspect(unsendable), /<pending>/);
  await assert.rejects(unsendable, { name: "DataCloneError" });
  await counter.stop();
  const stopped = counter.increment();
  assert.match(Deno.inspect(stopped), /<pending>/);
  await assert.rejects(stopped, InvalidStateError);
});

Deno.test("spawn() onCrash 'restart': the state is rebuilt and queued messages are delivered after", async () => {
  await using counter = await spawn<Counter>(COUNTER, {
    args: [100],
    onCrash: "restart",
    restartBackoff: { initial: 1, max: 1 },
  });
  assert.equal(await counter.increment(), 101);
  const crash = counter.crash(9);
  const after = counter.increment(2);
  const error = await crash.catch((e) => e);
  assert.ok(error instanceof WorkerCrashedError);
  assert.match(error.message, /while handling 'crash'/);
  assert.equal(await after, 102, "a fresh Counter(100) got the queued message");
});

Deno.test("spawn() deprecated supervision 'restart' and backoff still work, up to the restart limit", async () => {
  await using counter = await spawn<Counter>(COUNTER, {
    supervision: "restart",
    restartLimit: { max: 1, within: 60_000 },
    backoff: { min: 1, max: 1 },
  });
  assert.ok((await counter.crash(1).catch((e) => e)) instanceof WorkerCrashedError);
  assert.equal(await counter.increment(), 1, "restarted once");
  assert.ok((await counter.crash(1).catch((e) => e)) instanceof WorkerCrashedError);
  await assert.rejects(counter.increment(), InvalidStateError);
});

Deno.test("stop() lets sent messages finish, then refuses new ones", async () => {
  const counter = await spawn<Counter>(COUNTER);
  const pending = counter.increment(3);
  const stopped = counter.stop();
  assert.equal(await pending, 3);
  await stopped;
  await assert.rejects(counter.increment(), InvalidStateError);
  await counter.stop();
});

Deno.test("spawn() rejects when the actor cannot be constructed, or the module is bad", async () => {
  await assert.rejects(spawn(BROKEN), /could not start \(actor\): no state today/);
  await assert.rejects(
    spawn(new URL("../fixtures/actors/missing.ts", import.meta.url)),
    /could not start \(module\)/,
  );
  await assert.rejects(
    spawn(COUNTER, { supervision: "sometimes" as "stop" }),
    (error: unknown) => error instanceof TypeError && /'supervision'/.test(error.message),
  );
});

Deno.test("spawn() refuses an unknown option key, suggesting the known one", async () => {
  await assert.rejects(
    spawn(COUNTER, { onCrush: "restart" } as never),
    (error: unknown) =>
      error instanceof TypeError &&
      error.message ===
        "Cannot spawn an actor as 'onCrush' is not an option (did you mean 'onCrash'?)",
  );
  await assert.rejects(
    spawn(COUNTER, { restartBackoff: { inital: 5 } } as never),
    /'restartBackoff.inital' is not a backoff field \(did you mean 'restartBackoff.initial'\?\)/,
  );
});

Deno.test("spawn() refuses an old option name given with its new one", async () => {
  await assert.rejects(
    spawn(COUNTER, { supervision: "restart", onCrash: "restart" }),
    (error: unknown) =>
      error instanceof TypeError &&
      /'supervision' and 'onCrash' are the same option: give one/.test(error.message),
  );
  await assert.rejects(
    spawn(COUNTER, { backoff: { initial: 1 }, restartBackoff: { initial: 1 } }),
    /'backoff' and 'restartBackoff' are the same option/,
  );
  await assert.rejects(
    spawn(COUNTER, { restartBackoff: { min: 1, initial: 1 } }),
    /'restartBackoff.min' and 'restartBackoff.initial' are the same option/,
  );
  await assert.rejects(
    spawn(COUNTER, { onCrash: "break" as "stop" }),
    /'onCrash' must be "stop" or "restart": received "break"/,
  );
});

Deno.test("spawn() reference answers toJSON, then and constructor locally, never as messages", async () => {
  await using counter = await spawn<Counter>(COUNTER, { args: [3] });
  const ref = counter as unknown as Record<string, unknown>;
  assert.equal(ref.toJSON, undefined);
  assert.equal(ref.then, undefined);
  assert.equal(ref.constructor, undefined);
  assert.equal(JSON.stringify({ counter }), '{"counter":{}}');
  assert.equal(typeof Deno.inspect(counter), "string");
  // Had any of these been sent, the actor would have failed them; it still counts from 3.
  assert.equal(await counter.increment(), 4);
});

Deno.test("spawn() mailbox keeps the order of 20k queued calls", async () => {
  await using counter = await spawn<Counter>(COUNTER);
  // One message per round trip (about 150 µs here): 20k keeps the test short.
  const n = 20_000;
  const calls: Promise<number>[] = [];
  for (let i = 0; i < n; i++) calls.push(counter.increment());
  const results = await Promise.all(calls);
  for (let i = 0; i < n; i++) {
    if (results[i] !== i + 1) assert.fail(`call ${i} returned ${results[i]}, expected ${i + 1}`);
  }
});

Deno.test("spawn() with idleTimeout lets the process exit although the actor is not stopped", async () => {
  const script = new URL("../fixtures/scripts/idle_actor.ts", import.meta.url).pathname;
  const run = await runDeno(["run", "-A", script], 20_000);
  assert.equal(run.stdout.trim(), "counted 42", run.stderr);
  assert.equal(run.code, 0, run.stderr);
});

Deno.test("spawn() with idleTimeout 0 ends the worker when idle and rebuilds the state on the next call", async () => {
  await using counter = await spawn<typeof Counter>(COUNTER, { args: [10], idleTimeout: 0 });
  assert.equal(await counter.increment(), 11);
  // The worker ended once idle: a new one constructs Counter(10) again.
  assert.equal(await counter.increment(), 11);
  // Calls queued together run on one worker, in order.
  assert.deepEqual(await Promise.all([counter.increment(), counter.increment()]), [11, 12]);
});

Deno.test("spawn() refuses a negative or non-number idleTimeout, naming it", async () => {
  await assert.rejects(spawn(COUNTER, { idleTimeout: -1 }), /'idleTimeout'.*received -1/);
  await assert.rejects(
    spawn(COUNTER, { idleTimeout: "10" as unknown as number }),
    /'idleTimeout'.*received "10"/,
  );
});

Deno.test("spawn() refuses a name that is not a non-empty string", async () => {
  // It was taken as is: errors then spoke of actor '[object Object]'.
  await assert.rejects(
    spawn(COUNTER, { name: { id: 1 } as never }),
    (e: unknown) => e instanceof TypeError && /'name' must be a non-empty string/.test(e.message),
  );
  await assert.rejects(spawn(COUNTER, { name: "" }), /'name'.*received ""/);
});

Deno.test("calls queued on an actor go to its worker in batches and are handled one at a time, in order", async () => {
  await using counter = await spawn<Counter>(COUNTER);
  const open = new Int32Array(new SharedArrayBuffer(4));
  const slow = counter.slowIncrement(1, open);
  const queued = Array.from({ length: 2_000 }, () => counter.increment());
  Atomics.store(open, 0, 1);
  assert.equal(await slow, 1);
  const values = await Promise.all(queued);
  assert.deepEqual(values, Array.from({ length: 2_000 }, (_, i) => i + 2));
});

Deno.test("an actor sends each method to its worker once, however many calls", async () => {
  // The messages to the actor's worker, seen by wrapping the Worker class it is made with.
  const sent: unknown[] = [];
  const Original = globalThis.Worker;
  globalThis.Worker = class extends Original {
    override postMessage(message: unknown, transfer?: unknown): void {
      sent.push(message);
      super.postMessage(message, transfer as Transferable[]);
    }
  };
  let counter;
  try {
    counter = await spawn<Counter>(COUNTER);
  } finally {
    globalThis.Worker = Original;
  }
  await using _ = counter;
  for (let round = 0; round < 5; round++) {
    await Promise.all(Array.from({ length: 200 }, () => counter.increment()));
  }
  assert.equal(await counter.count(), 1_000);
  // A new reference per call made each call a new function: its table grew by one a call, on
  // both sides, for as long as the actor lived.
  const fns = sent.flatMap((m) =>
    m && typeof m === "object" && "fns" in m ? (m as { fns: { method: string }[] }).fns : []
  );
  assert.deepEqual(fns.map((f) => f.method).sort(), ["count", "increment"]);
});

Deno.test("spawn() with args a worker cannot receive rejects naming 'args' and ends the worker it made", async () => {
  // Workers made meanwhile, and whether each was ended: one left alive keeps the program running.
  const made: { ended: boolean }[] = [];
  const Original = globalThis.Worker;
  globalThis.Worker = class extends Original {
    readonly #record = { ended: false };
    constructor(url: string | URL, options?: WorkerOptions) {
      super(url, options);
      made.push(this.#record);
    }
    override terminate(): void {
      this.#record.ended = true;
      super.terminate();
    }
  };
  try {
    await assert.rejects(
      () => spawn(COUNTER, { args: [() => 1] } as never),
      (e: unknown) =>
        e instanceof TypeError && /'args'/.test(e.message) && /cloned/.test(e.message),
    );
    const pool = new WorkerPoolExecutor({
      maxWorkers: 1,
      initializer: (_f: unknown) => {},
      initargs: [() => 1],
    } as never);
    await assert.rejects(
      () => pool.submit((x: number) => x, 1),
      (e: unknown) => e instanceof BrokenExecutorError && /'initargs'/.test(e.message),
    );
    await pool.shutdown();
  } finally {
    globalThis.Worker = Original;
  }
  assert.equal(made.length, 2);
  assert.deepEqual(made, [{ ended: true }, { ended: true }]);
});

const BUILDS = new URL("../fixtures/actors/builds.ts", import.meta.url);

Deno.test("stop() while an actor waits out a restart's backoff, with nothing queued, ends it at once", async () => {
  const builds = new Int32Array(new SharedArrayBuffer(4));
  const actor = await spawn<import("../fixtures/actors/builds.ts").default>(BUILDS, {
    args: [builds],
    onCrash: "restart",
    restartBackoff: { initial: 60_000, max: 60_000, jitter: 0 },
  });
  // The first crash restarts at once; the second waits out the backoff.
  await assert.rejects(actor.crash(1), WorkerCrashedError);
  assert.equal(await actor.echo(1), 1);
  await assert.rejects(actor.crash(1), WorkerCrashedError);
  // It waited the whole backoff, then built the actor again only to stop it.
  await actor.stop();
  assert.equal(Atomics.load(builds, 0), 2);
});

/**
 * Holds the timers armed for `delays` ms (each rounded), for the test to fire when it chooses:
 * an actor's idle and restart timers then fire in a set order, and without waiting for them.
 */
function holdTimers(delays: number[]) {
  const real = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout };
  const held = new Map<number, { ms: number; fn: () => void }>();
  // Ids no real timer has, so that clearTimeout() can tell a held one.
  let nextId = 2 ** 40;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    const [fn, ms] = args;
    const rounded = Math.round(ms ?? 0);
    if (!delays.includes(rounded)) return real.setTimeout(...args);
    held.set(nextId, { ms: rounded, fn: fn as () => void });
    return nextId++;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((id?: number) => {
    if (id === undefined || !held.delete(id)) real.clearTimeout(id);
  }) as typeof clearTimeout;
  return {
    /** Fires the timer held for `ms`, if one is; returns whether one was. */
    fire(ms: number): boolean {
      for (const [id, timer] of held) {
        if (timer.ms !== ms) continue;
        held.delete(id);
        timer.fn();
        return true;
      }
      return false;
    },
    [Symbol.dispose](): void {
      globalThis.setTimeout = real.setTimeout;
      globalThis.clearTimeout = real.clearTimeout;
    },
  };
}

Deno.test("spawn() with idleTimeout keeps one worker while a restart waits out its backoff", async () => {
  const IDLE = 1_000_000_000;
  const BACKOFF = 2_000_000_000;
  using timers = holdTimers([IDLE, BACKOFF]);
  // The workers made meanwhile, and whether each was ended (with a promise of it).
  const made: { worker: Worker; ended: boolean; end: PromiseWithResolvers<void> }[] = [];
  const Original = globalThis.Worker;
  globalThis.Worker = class extends Original {
    readonly #record = { worker: this, ended: false, end: Promise.withResolvers<void>() };
    constructor(url: string | URL, options?: WorkerOptions) {
      super(url, options);
      made.push(this.#record);
    }
    override terminate(): void {
      this.#record.ended = true;
      this.#record.end.resolve();
      super.terminate();
    }
  };
  try {
    const builds = new Int32Array(new SharedArrayBuffer(4));
    const actor = await spawn<import("../fixtures/actors/builds.ts").default>(BUILDS, {
      args: [builds],
      onCrash: "restart",
      idleTimeout: IDLE,
      restartBackoff: { initial: BACKOFF, max: BACKOFF, jitter: 0 },
    });
    // The first crash restarts at once.
    await assert.rejects(actor.crash(1), WorkerCrashedError);
    assert.equal(await actor.echo(1), 1);
    // The second worker crashes while idle, its idle timer armed: the restart waits the backoff.
    const gate = new Int32Array(new SharedArrayBuffer(4));
    await actor.exitWhenOpened(gate, 3);
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await made[1]!.end.promise;
    // The idle timer passivated the dead worker: this call started a worker at once, and the
    // restart then started another over it, which nothing ended.
    timers.fire(IDLE);
    const call = actor.echo(2);
    assert.ok(timers.fire(BACKOFF), "the restart waited out its backoff");
    assert.equal(await call, 2);
    await actor.stop();
    assert.deepEqual(made.map(({ ended }) => ended), [true, true, true]);
    assert.equal(Atomics.load(builds, 0), 3);
  } finally {
    globalThis.Worker = Original;
    // A worker left running would keep the test from ending.
    for (const { worker } of made) worker.terminate();
  }
});

Deno.test("a restart whose construction fails counts as a crash, up to the restart limit", async () => {
  const builds = new Int32Array(new SharedArrayBuffer(4));
  const actor = await spawn<import("../fixtures/actors/builds.ts").default>(BUILDS, {
    args: [builds, 2],
    onCrash: "restart",
    restartLimit: { max: 3, within: 60_000 },
    restartBackoff: { initial: 1, max: 1, jitter: 0 },
  });
  const crash = actor.crash(1);
  const queued = actor.echo("queued");
  await assert.rejects(crash, WorkerCrashedError);
  // The failed rebuild stopped the actor at once, and the queued call got a plain Error.
  const error = await queued.catch((e) => e);
  assert.ok(error instanceof WorkerCrashedError, String(error));
  assert.match(error.message, /could not restart \(actor\): construction \d failed/);
  // The first build, then one for each of the 3 restarts the limit allows.
  assert.equal(Atomics.load(builds, 0), 4);
  await assert.rejects(actor.echo(1), InvalidStateError);
});
