import assert from "node:assert/strict";
import { proxy, spawn } from "../../mod.ts";
import type Reporter from "../fixtures/actors/reporter.ts";

const REPORTER = new URL("../fixtures/actors/reporter.ts", import.meta.url);

Deno.test("spawn() actors' methods call back a proxy() argument on the caller's side", async () => {
  await using reporter = await spawn<Reporter>(REPORTER);
  const seen: number[] = [];
  const report = proxy((total: number) => {
    seen.push(total);
    return total * 10;
  });
  assert.equal(await reporter.add(2, report), 20);
  assert.equal(await reporter.add(3, report), 50);
  assert.deepEqual(seen, [2, 5]);
});
