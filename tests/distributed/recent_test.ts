// The client's record of outcomes pushed lately.

import assert from "node:assert/strict";
import { RecentKeys } from "../../distributed/_recent.ts";

Deno.test("RecentKeys keeps a key for its window at least and twice its window at most", () => {
  const recent = new RecentKeys(100);
  recent.note("a", 0);
  recent.note("b", 60);
  assert(!recent.has("c", 60));
  assert(recent.has("a", 99));
  // A new generation began at 100: "a" and "b" are in the one before it.
  recent.note("c", 100);
  assert(recent.has("a", 150));
  assert(recent.has("b", 159));
  assert.equal(recent.size, 3);
  // Noted again, a key moves to the current generation.
  recent.note("b", 160);
  // At 200 the generation of 0–99 is dropped: "a" (noted at 0) with it, past its window.
  assert(!recent.has("a", 200));
  assert(recent.has("b", 259));
  assert(recent.has("c", 199));
  assert.equal(recent.size, 2);
  // Nothing noted for two windows: nothing is kept.
  assert(!recent.has("b", 460));
  assert.equal(recent.size, 0);
});

Deno.test("RecentKeys holds only the last two windows' keys through a million notes", () => {
  const recent = new RecentKeys(1_000);
  for (let i = 0; i < 1_000_000; i++) recent.note(`t${i}`, i);
  // Generations begin every 1000 ms: the current one began at 999,000.
  assert.equal(recent.size, 2_000);
  assert(recent.has("t998000", 999_999));
  assert(!recent.has("t997999", 999_999));
});

Deno.test("RecentKeys with maxKeys holds at most twice that many keys, however fast they come", () => {
  // A worker's record of cancels: a flood of made-up ones within its window grew it without bound.
  const recent = new RecentKeys(600_000, 1_000);
  for (let i = 0; i < 100_000; i++) recent.note(`c.t${i}`, 0);
  assert(recent.size <= 2_000, String(recent.size));
  // The latest are kept.
  assert(recent.has("c.t99999", 1));
});
