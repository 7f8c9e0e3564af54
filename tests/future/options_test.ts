// Options written as in Python, or with a wrong type, are refused at the call with what to write.

import assert from "node:assert/strict";
import { asCompleted, Future, wait } from "../../mod.ts";

function typeError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof TypeError && pattern.test(error.message);
}

Deno.test("Future.result() refuses a bare number: did you mean { timeout: 50 }?", async () => {
  const future = new Future<number>();
  // @ts-expect-error: Python's positional timeout
  await assert.rejects(future.result(50), typeError(/did you mean \{ timeout: 50 \}\?/));
  // @ts-expect-error: Python's positional timeout
  await assert.rejects(future.exception(50), typeError(/did you mean \{ timeout: 50 \}\?/));
});

Deno.test("Future.result() refuses an unknown key with the closest known one", async () => {
  const future = new Future<number>();
  await assert.rejects(
    // @ts-expect-error: misspelt
    future.result({ timout: 5 }),
    typeError(/'timout' is not an option \(did you mean 'timeout'\?\)/),
  );
});

Deno.test("Future.result() shows a timeout of the wrong type quoted, as a TypeError", async () => {
  const future = new Future<number>();
  await assert.rejects(
    // @ts-expect-error: a string
    future.result({ timeout: "100" }),
    typeError(/'timeout' must be a non-negative number of milliseconds: received "100"$/),
  );
});

Deno.test("wait() refuses a bare number: did you mean { timeout: 50 }?", () => {
  // @ts-expect-error: Python's positional timeout
  assert.throws(() => wait([], 50), typeError(/did you mean \{ timeout: 50 \}\?/));
  assert.throws(
    // @ts-expect-error: Python's keyword
    () => wait([], { return_when: "ALL_COMPLETED" }),
    typeError(/'return_when' is not an option \(did you mean 'returnWhen'\?\)/),
  );
  assert.throws(
    // @ts-expect-error: not a constant
    () => wait([], { returnWhen: "FIRST" }),
    typeError(/received "FIRST"/),
  );
});

Deno.test("asCompleted() refuses a bare number: did you mean { timeout: 50 }?", () => {
  // @ts-expect-error: Python's positional timeout
  assert.throws(() => asCompleted([], 50), typeError(/did you mean \{ timeout: 50 \}\?/));
  assert.throws(
    // @ts-expect-error: misspelt
    () => asCompleted([], { timeOut: 5 }),
    typeError(/did you mean 'timeout'/),
  );
});
