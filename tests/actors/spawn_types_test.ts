import assert from "node:assert/strict";
import { type ActorRef, spawn } from "../../mod.ts";
import type Counter from "../fixtures/actors/counter.ts";

const COUNTER = new URL("../fixtures/actors/counter.ts", import.meta.url);

// Type level only: these lines are compiled by `deno check`/`deno test`, never called.
async function _typeChecks(): Promise<void> {
  const typed: ActorRef<Counter> = await spawn<typeof Counter>(COUNTER, { args: [10] });
  const _n: number = await typed.increment(5);
  await spawn<typeof Counter>(COUNTER, {});
  await spawn<typeof Counter>(COUNTER);
  // @ts-expect-error a string where the constructor takes a number
  await spawn<typeof Counter>(COUNTER, { args: ["ten"] });
  // @ts-expect-error too many arguments
  await spawn<typeof Counter>(COUNTER, { args: [1, 2] });
  // @ts-expect-error the instance has no such method
  await typed.decrement();
  // The instance type still works, without checking args.
  const loose: ActorRef<Counter> = await spawn<Counter>(COUNTER, { args: [10] });
  // @ts-expect-error a wrong argument type for a method
  await loose.increment("5");
  await spawn<{ greet(name: string): string }>(COUNTER);
  // Names a reference never sends are not typed as calls (they were, and threw at run time).
  const doc = await spawn<{ toJSON(): string; save(): void }>(COUNTER);
  await doc.save();
  // @ts-expect-error toJSON is never sent to the actor: serializers probe it
  await doc.toJSON();
}

Deno.test("spawn<typeof Class>() types args against the constructor and returns the instance's methods", async () => {
  await using counter = await spawn<typeof Counter>(COUNTER, { args: [10] });
  const eleven: number = await counter.increment();
  assert.equal(eleven, 11);
  assert.equal(typeof _typeChecks, "function");
});
