// Ghosts: messages of a work-queue stream that its consumer has acknowledged but that are still
// stored. A server crash can leave them (the consumer's ack floor was saved, the removal of the
// message was not), and the consumer never delivers them again, so they would stay until the
// stream's max_age, counting against max_msgs. Everything at or below the consumer's ack floor is
// acknowledged by definition, so such messages are removed one by one (not by a purge, which on
// nats-server 2.9 moves the sequence of every consumer).

import type { JetStreamManager } from "@nats-io/jetstream";

/**
 * Removes the messages of `consumer`'s subject at or below its ack floor.
 *
 * @returns how many it removed
 * @throws when the server refuses a request (such as a client without permission to read the
 * task stream's messages)
 */
export async function sweepGhosts(
  jsm: JetStreamManager,
  stream: string,
  consumer: string,
): Promise<number> {
  const info = await jsm.consumers.info(stream, consumer);
  const floor = info.ack_floor.stream_seq;
  const subject = info.config.filter_subject;
  let removed = 0;
  for (let seq = 1; seq <= floor;) {
    const msg = await jsm.streams.getMessage(stream, {
      seq,
      ...(subject ? { next_by_subj: subject } : {}),
    }).catch((error) => {
      // Not found: no message at or after `seq` on the subject. Any other error is the caller's.
      if (/not found/i.test(String(error))) return null;
      throw error;
    });
    if (!msg || msg.seq > floor) break;
    if (await jsm.streams.deleteMessage(stream, msg.seq, false).catch(() => false)) removed++;
    seq = msg.seq + 1;
  }
  // nats-server 2.9 after a crash can miss a message in a search by a wildcard subject (the
  // consumer's filter is `futs.task.<queue>.*`): seen as a ghost left at the head of the stream
  // while every later one was found. The head is looked at directly too, for as long as it is a
  // ghost of this consumer.
  for (;;) {
    const first = (await jsm.streams.info(stream)).state.first_seq;
    if (first < 1 || first > floor) break;
    const msg = await jsm.streams.getMessage(stream, { seq: first }).catch(() => null);
    if (!msg || !matches(msg.subject, subject)) break;
    if (!await jsm.streams.deleteMessage(stream, msg.seq, false).catch(() => false)) break;
    removed++;
  }
  return removed;
}

/** Whether `subject` is one of `filter`'s (tokens, `*` for one, `>` for the rest). */
function matches(subject: string, filter: string | undefined): boolean {
  if (!filter) return true;
  const s = subject.split(".");
  const f = filter.split(".");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === ">") return s.length > i;
    if (i >= s.length || (f[i] !== "*" && f[i] !== s[i])) return false;
  }
  return s.length === f.length;
}
