import assert from "node:assert/strict";
import { RestartSupervisor } from "../../actors/_restart_supervisor.ts";

const backoff = { initial: 10, max: 40, multiplier: 2, jitter: 0, resetAfter: 1_000 };

Deno.test("RestartSupervisor.crashed() allows max crashes within the window, not one more", () => {
  const supervisor = new RestartSupervisor({ max: 3, within: 100 }, backoff);
  assert.equal(supervisor.crashed(0), true);
  assert.equal(supervisor.crashed(10), true);
  assert.equal(supervisor.crashed(20), true);
  assert.equal(supervisor.crashed(30), false);
  // Crashes older than the window no longer count.
  const later = new RestartSupervisor({ max: 2, within: 100 }, backoff);
  assert.equal(later.crashed(0), true);
  assert.equal(later.crashed(50), true);
  assert.equal(later.crashed(150), true);
});

Deno.test("RestartSupervisor backs off 0, initial, 2·initial … up to max, and resets after a stable period", () => {
  const supervisor = new RestartSupervisor({ max: 100, within: 100_000 }, backoff);
  const waits: number[] = [];
  for (const now of [0, 1, 2, 3, 4]) {
    supervisor.crashed(now);
    waits.push(Math.round(supervisor.waitBeforeSpawn(now)));
  }
  assert.deepEqual(waits, [0, 10, 20, 40, 40]);
  supervisor.crashed(5_000);
  assert.ok(
    supervisor.waitBeforeSpawn(5_000) <= 0,
    "the first crash after a quiet spell is replaced at once",
  );
});

Deno.test("RestartSupervisor stretches delays by up to a numeric jitter", () => {
  const supervisor = new RestartSupervisor(
    { max: 100, within: 100_000 },
    { ...backoff, jitter: 0.5 },
    () => 1,
  );
  supervisor.crashed(0);
  supervisor.crashed(1);
  assert.equal(supervisor.waitBeforeSpawn(1), 15);
});
