// Reading a stored outcome: the record under `<client>.<id>`, or the record it points to in the
// object store when it was too large for the bucket.

import { ChunkFailure } from "../executors/_map.ts";
import { decodeError } from "../actors/error_codec.ts";
import type { Blobs } from "./_stores.ts";
import type { ResultRecord } from "./_protocol.ts";
import { decodeBody } from "./_codec.ts";

/**
 * Reads the record in `bytes` (a stored outcome, or the same bytes pushed by the worker), from the
 * payload it points to when it was too large for the bucket. The payload stays: it goes with the
 * outcome, at its TTL or by `forget()`.
 */
export async function readOutcome(bytes: Uint8Array, store: Blobs): Promise<ResultRecord> {
  // Async: a body that cannot be decoded rejects, as a payload that cannot be read does.
  return await wholeRecord(decodeBody<ResultRecord>(bytes), store);
}

/** `record` itself, or, when it points to a payload, the record the payload holds. */
export async function wholeRecord(record: ResultRecord, store: Blobs): Promise<ResultRecord> {
  if (record.blob === undefined) return record;
  return decodeBody<ResultRecord>(await store.get(record.blob, record.seal));
}

/** The name of the payload a stored outcome points to, if it points to one (nothing is read). */
export function payloadOf(bytes: Uint8Array): string | undefined {
  try {
    return decodeBody<ResultRecord>(bytes).blob;
  } catch {
    return undefined;
  }
}

/** The error a failed record stands for. */
export function outcomeError(record: ResultRecord): unknown {
  const error = decodeError(record.error!);
  return record.values ? new ChunkFailure(record.values, error) : error;
}
