import assert from "node:assert/strict";
import { proxy } from "../../mod.ts";
import { encodeProxies, reviveProxies } from "../../actors/_proxy_wire.ts";

Deno.test("encodeProxies() leaves arguments without proxies as they are", () => {
  proxy(() => {});
  const args = [1, { a: [2, 3] }, new Uint8Array(4)];
  assert.equal(encodeProxies(args), undefined);
});

Deno.test("encodeProxies() takes out nested proxies by path, copying only the containers on them", () => {
  const p = proxy((n: number) => n);
  const untouched = { big: [1, 2, 3] };
  const args = [{ hooks: { p }, untouched }, [0, [p]]];
  const encoded = encodeProxies(args)!;
  assert.deepEqual(encoded.paths, [[0, "hooks", "p"], [1, 1, 0]]);
  assert.equal(encoded.fns.length, 2);
  assert.deepEqual(encoded.args, [{ hooks: { p: null }, untouched }, [0, [null]]]);
  assert.equal((encoded.args[0] as { untouched: unknown }).untouched, untouched);
  // The caller's arguments still hold the proxies.
  assert.equal(args[0] && (args[0] as { hooks: { p: unknown } }).hooks.p, p);
  assert.equal(((args[1] as unknown[])[1] as unknown[])[0], p);
});

Deno.test("encodeProxies() keeps shared objects shared and ends on cycles", () => {
  const p = proxy(() => 1);
  const shared = { p };
  const cycle: Record<string, unknown> = { n: 1 };
  cycle.self = cycle;
  const encoded = encodeProxies([shared, shared, cycle])!;
  assert.deepEqual(encoded.paths, [[0, "p"]]);
  assert.equal(encoded.args[0], encoded.args[1]);
  assert.equal(encoded.args[2], cycle);
  // Revived in a clone, the one stand-in is seen from both places.
  const clone = structuredClone(encoded.args);
  reviveProxies(clone, encoded.paths, () => () => "stand-in");
  assert.equal((clone[1] as { p: () => string }).p(), "stand-in");
});
