import assert from "node:assert/strict";
import { type CircuitBreakerOptions, CircuitBreakers } from "../../executors/circuit_breaker.ts";
import { CircuitOpenError, TimeoutError } from "../../future/errors.ts";

function setup(options: Partial<CircuitBreakerOptions> = {}) {
  const clock = { now: 0 };
  const events: string[] = [];
  const breakers = new CircuitBreakers({
    threshold: 3,
    halfOpenAfter: 1_000,
    now: () => clock.now,
    onStateChange: ({ domain, from, to }) => events.push(`${domain} ${from}->${to}`),
    ...options,
  });
  return { clock, events, breakers };
}

function fail(breakers: CircuitBreakers, domain: string, times = 1) {
  for (let i = 0; i < times; i++) {
    breakers.enter(domain).failure(new Error("503"));
  }
}

function rejection(
  breakers: CircuitBreakers,
  domain: string,
): CircuitOpenError {
  try {
    breakers.enter(domain);
  } catch (error) {
    assert.ok(error instanceof CircuitOpenError);
    return error;
  }
  assert.fail(`the circuit of ${domain} let a call through`);
}

Deno.test("CircuitBreakers.enter() rejects with CircuitOpenError once threshold failures in a row", () => {
  const { breakers } = setup();
  fail(breakers, "api", 2);
  assert.equal(breakers.state("api"), "closed");
  fail(breakers, "api");
  assert.equal(breakers.state("api"), "open");
  const error = rejection(breakers, "api");
  assert.equal(error.domain, "api");
  assert.equal(error.retryAfter, 1_000);
  assert.equal(breakers.stats().get("api")?.rejected, 1);
});

Deno.test("CircuitPermit.success() ends a run of failures", () => {
  const { breakers } = setup();
  fail(breakers, "api", 2);
  breakers.enter("api").success();
  fail(breakers, "api", 2);
  assert.equal(breakers.state("api"), "closed");
  assert.equal(breakers.stats().get("api")?.consecutiveFailures, 2);
});

Deno.test("CircuitBreakers.enter() keeps each domain's circuit independent", () => {
  const { breakers } = setup();
  fail(breakers, "a", 2);
  fail(breakers, "b", 2);
  fail(breakers, "a");
  assert.equal(breakers.state("a"), "open");
  assert.equal(breakers.state("b"), "closed");
  breakers.enter("b").success();
  assert.equal(breakers.state("never-seen"), "closed");
  assert.deepEqual([...breakers.stats().keys()], ["a", "b"]);
});

Deno.test("CircuitOpenError.retryAfter counts down with the clock", () => {
  const { clock, breakers } = setup();
  clock.now = 5_000;
  fail(breakers, "api", 3);
  clock.now = 5_400;
  assert.equal(rejection(breakers, "api").retryAfter, 600);
  clock.now = 5_999;
  assert.equal(rejection(breakers, "api").retryAfter, 1);
  const stats = breakers.stats().get("api");
  assert.equal(stats?.openedAt, 5_000);
  assert.equal(stats?.retryAfter, 1);
});

Deno.test("CircuitBreakers.enter() turns an open circuit half-open lazily once halfOpenAfter has passed", () => {
  const { clock, events, breakers } = setup();
  fail(breakers, "api", 3);
  clock.now = 999;
  assert.equal(breakers.state("api"), "open");
  clock.now = 60_000;
  assert.deepEqual(events, ["api closed->open"]);
  const probe = breakers.enter("api");
  assert.deepEqual(events, ["api closed->open", "api open->halfOpen"]);
  assert.equal(breakers.state("api"), "halfOpen");
  probe.release();
});

Deno.test("CircuitBreakers.enter() lets only halfOpenProbes probes through and rejects the rest at once", () => {
  const { clock, breakers } = setup({ halfOpenProbes: 2 });
  fail(breakers, "api", 3);
  clock.now = 1_000;
  const first = breakers.enter("api");
  const second = breakers.enter("api");
  const error = rejection(breakers, "api");
  assert.equal(error.retryAfter, 0);
  assert.equal(
    error.message,
    "the circuit for domain 'api' is half-open and its probes are out: retry once they have settled",
  );
  assert.equal(breakers.stats().get("api")?.inFlight, 2);
  first.release();
  breakers.enter("api").release();
  second.release();
});

Deno.test("CircuitPermit.success() on a probe closes the circuit and resets the counts", () => {
  const { clock, breakers } = setup({ halfOpenProbes: 2 });
  fail(breakers, "api", 3);
  clock.now = 1_000;
  const first = breakers.enter("api");
  const second = breakers.enter("api");
  first.success();
  assert.equal(breakers.state("api"), "closed");
  assert.equal(breakers.stats().get("api")?.consecutiveFailures, 0);
  // The other probe now ends like any call made while closed.
  second.failure(new Error("503"));
  fail(breakers, "api");
  assert.equal(breakers.state("api"), "closed");
  fail(breakers, "api");
  assert.equal(breakers.state("api"), "open");
});

Deno.test("CircuitPermit.failure() on a probe opens the circuit again for another halfOpenAfter", () => {
  const { clock, events, breakers } = setup();
  fail(breakers, "api", 3);
  clock.now = 1_000;
  const probe = breakers.enter("api");
  clock.now = 1_200;
  probe.failure(new Error("still down"));
  assert.equal(rejection(breakers, "api").retryAfter, 1_000);
  clock.now = 2_199;
  assert.equal(breakers.state("api"), "open");
  clock.now = 2_200;
  assert.equal(breakers.state("api"), "halfOpen");
  breakers.enter("api").success();
  assert.deepEqual(events, [
    "api closed->open",
    "api open->halfOpen",
    "api halfOpen->open",
    "api open->halfOpen",
    "api halfOpen->closed",
  ]);
});

Deno.test("CircuitPermit.failure() ignores CircuitOpenError by default", () => {
  const { breakers } = setup({ threshold: 1 });
  breakers.enter("api").failure(new CircuitOpenError("other", 10));
  assert.equal(breakers.state("api"), "closed");
  assert.equal(breakers.stats().get("api")?.ignored, 1);
});

Deno.test("CircuitPermit.failure() counts only errors that isFailure accepts", () => {
  const { breakers } = setup({
    threshold: 2,
    isFailure: (error) => error instanceof TimeoutError,
  });
  breakers.enter("api").failure(new TimeoutError());
  breakers.enter("api").failure(new Error("bad request"));
  assert.equal(breakers.state("api"), "closed");
  breakers.enter("api").failure(new TimeoutError());
  assert.equal(breakers.state("api"), "open");
  const stats = breakers.stats().get("api");
  assert.equal(stats?.failures, 2);
  assert.equal(stats?.ignored, 1);
});

Deno.test("CircuitPermit.release() counts nothing but frees a half-open probe slot", () => {
  const { clock, breakers } = setup();
  fail(breakers, "api", 2);
  breakers.enter("api").release();
  assert.equal(breakers.stats().get("api")?.consecutiveFailures, 2);
  fail(breakers, "api");
  clock.now = 1_000;
  breakers.enter("api").release();
  assert.equal(breakers.state("api"), "halfOpen");
  const probe = breakers.enter("api");
  rejection(breakers, "api");
  probe.success();
  assert.equal(breakers.state("api"), "closed");
});

Deno.test("CircuitPermit counts only the first of its calls", () => {
  const { breakers } = setup({ threshold: 1 });
  const permit = breakers.enter("api");
  permit.success();
  permit.failure(new Error("late"));
  permit.release();
  const stats = breakers.stats().get("api");
  assert.equal(stats?.state, "closed");
  assert.deepEqual([
    stats?.successes,
    stats?.failures,
    stats?.ignored,
    stats?.inFlight,
  ], [1, 0, 0, 0]);
});

Deno.test("CircuitPermit from before the circuit opened does not change its state", () => {
  const { clock, breakers } = setup();
  const early = breakers.enter("api");
  const late = breakers.enter("api");
  fail(breakers, "api", 3);
  early.success();
  assert.equal(breakers.state("api"), "open");
  clock.now = 1_000;
  const probe = breakers.enter("api");
  late.failure(new Error("503"));
  assert.equal(breakers.state("api"), "halfOpen");
  probe.success();
  assert.equal(breakers.state("api"), "closed");
  assert.equal(breakers.stats().get("api")?.successes, 2);
});

Deno.test("CircuitBreakers failureRatio opens once minimumCalls calls reach the ratio", () => {
  const { breakers } = setup({
    threshold: 100,
    failureRatio: { ratio: 0.5, window: 1_000, minimumCalls: 4 },
  });
  breakers.enter("api").success();
  fail(breakers, "api");
  breakers.enter("api").success();
  assert.equal(breakers.state("api"), "closed");
  assert.deepEqual(breakers.stats().get("api")?.window, {
    calls: 3,
    failures: 1,
  });
  fail(breakers, "api");
  assert.equal(breakers.state("api"), "open");
});

Deno.test("CircuitBreakers failureRatio forgets calls older than the window", () => {
  const { clock, breakers } = setup({
    threshold: 100,
    failureRatio: { ratio: 0.5, window: 1_000, minimumCalls: 4 },
  });
  for (let i = 0; i < 3; i++) breakers.enter("api").success();
  fail(breakers, "api");
  clock.now = 500;
  fail(breakers, "api");
  assert.deepEqual(breakers.stats().get("api")?.window, {
    calls: 5,
    failures: 2,
  });
  clock.now = 1_000;
  // With the successes at 0 still counted, 3 failures out of 6 calls would open it here.
  fail(breakers, "api", 2);
  assert.equal(breakers.state("api"), "closed");
  assert.deepEqual(breakers.stats().get("api")?.window, {
    calls: 3,
    failures: 3,
  });
  fail(breakers, "api");
  assert.equal(breakers.state("api"), "open");
});

Deno.test("CircuitBreakers evicts the least recently used closed idle breaker when full", () => {
  const { breakers } = setup({ maxDomains: 2 });
  breakers.enter("a").success();
  breakers.enter("b").success();
  breakers.enter("a").success();
  breakers.enter("c").success();
  assert.deepEqual([...breakers.stats().keys()], ["a", "c"]);
});

Deno.test("CircuitBreakers evicts an open breaker only when no closed one is idle, never a busy one", () => {
  const { breakers } = setup({ threshold: 1, maxDomains: 2 });
  fail(breakers, "open");
  breakers.enter("idle").success();
  breakers.enter("new").success();
  assert.deepEqual([...breakers.stats().keys()], ["open", "new"]);
  const busy = breakers.enter("new");
  const other = breakers.enter("other");
  assert.deepEqual([...breakers.stats().keys()], ["new", "other"]);
  assert.equal(breakers.state("open"), "closed");
  busy.success();
  other.success();
});

Deno.test("CircuitBreakers comes back within maxDomains once a burst of busy domains ends", async () => {
  const { breakers } = setup({ maxDomains: 2 });
  // Six domains with a call in flight at once: none can go meanwhile.
  const permits = ["p", "q", "r", "s", "t", "u"].map((domain) => breakers.enter(domain));
  assert.equal(breakers.stats().size, 6);
  for (const permit of permits) permit.success();
  await Promise.resolve();
  // It stayed at six: a new domain evicted one at most, and only when it came.
  assert.deepEqual([...breakers.stats().keys()], ["t", "u"]);
  breakers.enter("new").success();
  assert.deepEqual([...breakers.stats().keys()], ["u", "new"]);
});

Deno.test("CircuitBreakers reports what onStateChange and isFailure throw without breaking", async () => {
  const reported: unknown[] = [];
  const listener = (event: ErrorEvent) => {
    event.preventDefault();
    reported.push(event.error);
  };
  globalThis.addEventListener("error", listener);
  try {
    const { breakers } = setup({
      threshold: 1,
      isFailure: () => {
        throw new Error("in isFailure");
      },
      onStateChange: () => {
        throw new Error("in onStateChange");
      },
    });
    breakers.enter("api").failure(new Error("503"));
    assert.equal(breakers.state("api"), "open");
    // Reported once the breaker's step is done (an error nobody listens for ends a Deno program
    // where it is reported).
    assert.deepEqual(reported, []);
    await Promise.resolve();
    assert.deepEqual(reported.map((error) => (error as Error).message), [
      "in isFailure",
      "in onStateChange",
    ]);
  } finally {
    globalThis.removeEventListener("error", listener);
  }
});

Deno.test("CircuitBreakers.enter() lets a probe through when the clock goes back", () => {
  const { clock, breakers } = setup();
  clock.now = 10_000;
  fail(breakers, "api", 3);
  clock.now = 9_000;
  breakers.enter("api").success();
  assert.equal(breakers.state("api"), "closed");
});

Deno.test("new CircuitBreakers() names the option and the value it rejects", () => {
  const base = { threshold: 1, halfOpenAfter: 0 };
  const ratio = { ratio: 0.5, window: 1_000, minimumCalls: 1 };
  const cases: [unknown, ErrorConstructor, string][] = [
    [
      undefined,
      TypeError,
      "'circuitBreaker' must be an object: received undefined",
    ],
    [
      { ...base, threshold: 0 },
      RangeError,
      "'circuitBreaker.threshold' must be a positive integer: received 0",
    ],
    [
      { ...base, threshold: "3" },
      TypeError,
      `'circuitBreaker.threshold' must be a positive integer: received "3"`,
    ],
    [
      { ...base, halfOpenAfter: -1 },
      RangeError,
      "'circuitBreaker.halfOpenAfter' must be a non-negative finite number: received -1",
    ],
    [
      { ...base, halfOpenProbes: 0.5 },
      RangeError,
      "'circuitBreaker.halfOpenProbes' must be a positive integer: received 0.5",
    ],
    [
      { ...base, maxDomains: 0 },
      RangeError,
      "'circuitBreaker.maxDomains' must be a positive integer: received 0",
    ],
    [
      { ...base, isFailure: 1 },
      TypeError,
      "'circuitBreaker.isFailure' must be a function: received 1",
    ],
    [
      { ...base, now: "now" },
      TypeError,
      `'circuitBreaker.now' must be a function: received "now"`,
    ],
    [
      { ...base, onStateChange: null },
      TypeError,
      "'circuitBreaker.onStateChange' must be a function: received null",
    ],
    [
      { ...base, failureRatio: 0.5 },
      TypeError,
      "'circuitBreaker.failureRatio' must be an object: received 0.5",
    ],
    [
      { ...base, failureRatio: { ...ratio, ratio: 1.5 } },
      RangeError,
      "'circuitBreaker.failureRatio.ratio' must be a number greater than 0 and at most 1: received 1.5",
    ],
    [
      { ...base, failureRatio: { ...ratio, window: 0 } },
      RangeError,
      "'circuitBreaker.failureRatio.window' must be a positive finite number: received 0",
    ],
    [
      { ...base, failureRatio: { ...ratio, minimumCalls: 0 } },
      RangeError,
      "'circuitBreaker.failureRatio.minimumCalls' must be a positive integer: received 0",
    ],
  ];
  for (const [options, type, message] of cases) {
    assert.throws(
      () => new CircuitBreakers(options as CircuitBreakerOptions),
      (error: Error) => {
        assert.ok(error instanceof type, `${error.name} for ${message}`);
        assert.equal(
          error.message,
          `Cannot create circuit breakers as ${message}`,
        );
        return true;
      },
    );
  }
});
