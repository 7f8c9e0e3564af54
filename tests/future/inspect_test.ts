import assert from "node:assert/strict";
import { Future } from "../../mod.ts";

Deno.test("Future shows its state and outcome in Deno.inspect()", () => {
  const pending = new Future<number>();
  assert.equal(Deno.inspect(pending), 'Future { state: "pending" }');
  pending.setRunningOrNotifyCancel();
  assert.equal(Deno.inspect(pending), 'Future { state: "running" }');
  pending.setResult(42);
  assert.equal(Deno.inspect(pending), 'Future { state: "finished", result: 42 }');

  const text = new Future<{ a: string }>();
  text.setResult({ a: "x" });
  assert.equal(Deno.inspect(text), 'Future { state: "finished", result: { a: "x" } }');

  const failed = new Future<number>();
  failed.setException(new RangeError("too big"));
  assert.equal(Deno.inspect(failed), 'Future { state: "finished", error: RangeError: "too big" }');

  const cancelled = new Future<number>();
  cancelled.cancel();
  assert.equal(Deno.inspect(cancelled), 'Future { state: "cancelled" }');

  assert.equal(Deno.inspect([pending]), '[ Future { state: "finished", result: 42 } ]');
});
