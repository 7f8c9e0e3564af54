// Reading a stored outcome: the record under `<client>.<id>`, or the record it points to in the
// object store when it was too large for the bucket.

import { deserialize } from "node:v8";
import type { KvEntry } from "@nats-io/kv";
import { ChunkFailure } from "../executors/_map.ts";
import { decodeError } from "../actors/error_codec.ts";
import type { Blobs } from "./_stores.ts";
import type { ResultRecord } from "./_protocol.ts";

/** Reads the record in `entry`; `blobs` gets the names of the payloads it used. */
export async function readOutcome(
  entry: KvEntry,
  store: Blobs,
  blobs: string[],
): Promise<ResultRecord> {
  let record = deserialize(entry.value) as ResultRecord;
  if (record.blob !== undefined) {
    blobs.push(record.blob);
    record = deserialize(await store.get(record.blob)) as ResultRecord;
  }
  return record;
}

/** The error a failed record stands for. */
export function outcomeError(record: ResultRecord): unknown {
  const error = decodeError(record.error!);
  return record.values ? new ChunkFailure(record.values, error) : error;
}
