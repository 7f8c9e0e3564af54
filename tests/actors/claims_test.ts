import assert from "node:assert/strict";
import { claim, ClaimSlots } from "../../actors/_claims.ts";
import { Ctl } from "../../actors/_protocol.ts";

function control(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Ctl.Size * 4));
}

Deno.test("ClaimSlots: a task the worker has not claimed is taken back, and then never claimed", () => {
  const ctl = control();
  const claims = new ClaimSlots(ctl);
  const slot = claims.assign(7)!;
  assert.equal(claims.takeBackOrStarted(7), false, "taken back");
  assert.equal(claim(ctl, 7, slot), false, "the worker may no longer start it");
});

Deno.test("ClaimSlots: a task the worker claimed counts as started", () => {
  const ctl = control();
  const claims = new ClaimSlots(ctl);
  const slot = claims.assign(8)!;
  assert.equal(claim(ctl, 8, slot), true);
  assert.equal(claims.takeBackOrStarted(8), true, "started: it stays where it is");
});

Deno.test("ClaimSlots: slots are reused once released, and a task without one counts as started", () => {
  const claims = new ClaimSlots(control());
  const slots = Array.from({ length: Ctl.SlotCount }, (_, i) => claims.assign(i + 1));
  assert.equal(new Set(slots).size, Ctl.SlotCount);
  assert.equal(claims.assign(999), undefined, "all slots taken");
  assert.equal(claims.takeBackOrStarted(999), true);
  claims.release(1);
  assert.equal(claims.assign(1000), slots[0]);
  assert.equal(claim(control(), 5, -1), true, "no slot: always claimed");
});
