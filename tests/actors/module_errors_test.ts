import assert from "node:assert/strict";
import { ProcessPoolExecutor, spawn, WorkerPoolExecutor } from "../../mod.ts";
import type Parser from "../fixtures/actors/parser.ts";
import { failHidden, ParseError, parseNumber } from "../fixtures/actors/parser.ts";

const PARSER = new URL("../fixtures/actors/parser.ts", import.meta.url);

function isParseError(error: unknown): boolean {
  assert(error instanceof ParseError, `expected a ParseError: ${error}`);
  assert.equal(error.line, 1);
  assert.equal(error.message, "not a number: x");
  assert(error.cause instanceof ParseError);
  assert.equal((error.cause as ParseError).line, 2);
  return true;
}

Deno.test("WorkerPoolExecutor.submit() restores an error class exported by a task module", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1, modules: [PARSER] });
  await assert.rejects(pool.submit(parseNumber, "x").result(), isParseError);
  // A class the module does not export still arrives as an Error with its name.
  const hidden = await pool.submit(failHidden).exception();
  assert(hidden instanceof Error && !(hidden instanceof ParseError));
  assert.equal((hidden as Error).name, "HiddenError");
});

Deno.test("ProcessPoolExecutor.submit() restores an error class exported by a task module", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1, modules: [PARSER] });
  await assert.rejects(pool.submit(parseNumber, "x").result(), isParseError);
});

Deno.test("spawn() restores an error class exported by the actor's module", async () => {
  await using parser = await spawn<Parser>(PARSER);
  assert.equal(await parser.parse("42"), 42);
  await assert.rejects(parser.parse("x"), isParseError);
});
