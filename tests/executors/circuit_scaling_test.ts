// Eviction in CircuitBreakers must cost O(1) amortized per new domain, whatever the registry holds
// (busy breakers, open ones), without changing which breaker goes first. The work is counted as
// steps of Map and Set iterators (how the registry walks its breakers), not timed.
import assert from "node:assert/strict";
import {
  type CircuitBreakerOptions,
  CircuitBreakers,
  type CircuitPermit,
} from "../../executors/circuit_breaker.ts";

const ITERATORS = [
  Object.getPrototypeOf(new Map().entries()),
  Object.getPrototypeOf(new Set().values()),
] as { next: (this: unknown) => unknown }[];

/** Counts the steps of every Map and Set iterator while `fn` runs. */
async function iterationSteps(fn: () => unknown): Promise<number> {
  let steps = 0;
  const saved = ITERATORS.map((proto) => proto.next);
  ITERATORS.forEach((proto, i) => {
    proto.next = function () {
      steps++;
      return saved[i]!.call(this);
    };
  });
  try {
    await fn();
  } finally {
    ITERATORS.forEach((proto, i) => proto.next = saved[i]!);
  }
  return steps;
}

function setup(options: Partial<CircuitBreakerOptions> = {}) {
  const clock = { now: 0 };
  const breakers = new CircuitBreakers({
    threshold: 1,
    halfOpenAfter: 1_000_000,
    now: () => clock.now,
    ...options,
  });
  return { clock, breakers };
}

const N = 2_000;
const MAX = 100;
// Each new domain or ended call takes about three steps (it passes a busy breaker or takes an
// idle one); walking the registry for each took N * N / 2 steps (busy), N * MAX (open).
const BOUND = 8 * N;

Deno.test("iterationSteps() sees the registry walk its breakers", async () => {
  const { breakers } = setup();
  for (let i = 0; i < 10; i++) breakers.enter(`d${i}`).success();
  assert.ok(await iterationSteps(() => breakers.stats()) >= 10);
});

Deno.test("CircuitBreakers.enter() does O(1) work per new domain while every breaker is busy", async () => {
  const { breakers } = setup({ maxDomains: MAX });
  const permits: CircuitPermit[] = [];
  const steps = await iterationSteps(() => {
    for (let i = 0; i < N; i++) permits.push(breakers.enter(`d${i}`));
  });
  assert.ok(steps <= BOUND, `${steps} steps for ${N} new domains`);
  // Busy breakers stay: the registry is past maxDomains by as many.
  assert.equal(breakers.stats().size, N);
  for (const permit of permits) permit.success();
});

Deno.test("CircuitBreakers.enter() does O(1) work per new domain while every breaker is open", async () => {
  const { clock, breakers } = setup({ maxDomains: MAX });
  const steps = await iterationSteps(() => {
    for (let i = 0; i < N; i++) {
      clock.now = i;
      breakers.enter(`d${i}`).failure(new Error("503"));
    }
  });
  assert.ok(steps <= BOUND, `${steps} steps for ${N} new domains`);
  // The ones opened first went first.
  const kept = [...breakers.stats()];
  assert.deepEqual(
    kept.map(([domain]) => domain),
    [...Array(MAX)].map((_, i) => `d${N - MAX + i}`),
  );
  assert.ok(kept.every(([, stats]) => stats.state === "open"));
});

Deno.test("CircuitBreakers comes back within maxDomains with O(1) work per call when busy domains end last to first", async () => {
  const { breakers } = setup({ maxDomains: MAX });
  const permits = [...Array(N)].map((_, i) => breakers.enter(`d${i}`));
  const steps = await iterationSteps(async () => {
    for (const permit of permits.reverse()) {
      permit.success();
      await Promise.resolve();
    }
  });
  assert.ok(steps <= BOUND, `${steps} steps for ${N} calls that ended`);
  // The last MAX to end stay, in order of entry.
  assert.deepEqual([...breakers.stats().keys()], [...Array(MAX)].map((_, i) => `d${i}`));
});

Deno.test("CircuitBreakers evicts the least recently entered idle closed breaker, whatever order calls end in", () => {
  const { breakers } = setup({ maxDomains: 3 });
  const a = breakers.enter("a"), b = breakers.enter("b"), c = breakers.enter("c");
  c.success();
  b.success();
  a.success();
  breakers.enter("d").success();
  assert.deepEqual([...breakers.stats().keys()], ["b", "c", "d"]);
  breakers.enter("e").success();
  assert.deepEqual([...breakers.stats().keys()], ["c", "d", "e"]);
});

Deno.test("CircuitBreakers evicts the open breaker opened first once its last call ends, never before", () => {
  const { clock, breakers } = setup({ maxDomains: 3 });
  const early = breakers.enter("x"), late = breakers.enter("x");
  clock.now = 1;
  early.failure(new Error("503"));
  clock.now = 2;
  breakers.enter("y").failure(new Error("503"));
  clock.now = 3;
  breakers.enter("z").failure(new Error("503"));
  // x opened first but has a call in flight: y goes.
  breakers.enter("w").success();
  assert.deepEqual([...breakers.stats().keys()], ["x", "z", "w"]);
  assert.equal(breakers.state("x"), "open");
  late.release();
  // w, closed and idle, goes before any open one.
  const v = breakers.enter("v");
  assert.deepEqual([...breakers.stats().keys()], ["x", "z", "v"]);
  // With no closed one idle, x, opened first and now idle, goes before z.
  breakers.enter("u").success();
  assert.deepEqual([...breakers.stats().keys()], ["z", "v", "u"]);
  v.success();
});

Deno.test("CircuitBreakers keeps a breaker closed by a probe in its place of last entry", () => {
  const { clock, breakers } = setup({ maxDomains: 3, halfOpenAfter: 10 });
  breakers.enter("p").failure(new Error("503"));
  clock.now = 10;
  const probe = breakers.enter("p");
  breakers.enter("a").success();
  breakers.enter("b").success();
  probe.success();
  assert.equal(breakers.state("p"), "closed");
  // p was entered before a: it goes first, although it became idle last.
  breakers.enter("c").success();
  assert.deepEqual([...breakers.stats().keys()], ["a", "b", "c"]);
});

Deno.test("CircuitBreakers evicts the open breaker with the earliest openedAt when the clock went back", () => {
  const { clock, breakers } = setup({ maxDomains: 3 });
  clock.now = 100;
  breakers.enter("x").failure(new Error("503"));
  clock.now = 50;
  breakers.enter("y").failure(new Error("503"));
  clock.now = 60;
  breakers.enter("z").failure(new Error("503"));
  breakers.enter("w");
  assert.deepEqual([...breakers.stats().keys()], ["x", "z", "w"]);
  breakers.enter("v");
  assert.deepEqual([...breakers.stats().keys()], ["x", "w", "v"]);
});

Deno.test("CircuitBreakers stays within maxDomains plus the busy breakers while calls end in any order", async () => {
  const { breakers } = setup({ maxDomains: 3 });
  const domains = [...Array(10)].map((_, i) => `d${i}`);
  const permits = new Map(domains.map((domain) => [domain, breakers.enter(domain)]));
  const order = ["d4", "d9", "d0", "d7", "d2", "d5", "d8", "d1", "d6", "d3"];
  for (const [ended, domain] of order.entries()) {
    permits.get(domain)!.success();
    await Promise.resolve();
    assert.equal(breakers.stats().size, Math.max(3, domains.length - ended - 1));
  }
  // The three that ended last stay, in order of entry.
  assert.deepEqual([...breakers.stats().keys()], ["d1", "d3", "d6"]);
});
