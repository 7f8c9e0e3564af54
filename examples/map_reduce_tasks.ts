/**
 * The task module of `examples/map_reduce.ts`: the map step, run in workers by reference.
 *
 * @module
 */

/** A word: letters, with inner apostrophes (`don't`), in any script. */
const WORD = /\p{L}+(?:['’]\p{L}+)*/gu;

/** Counts the words of a text, lowercased. */
export function countWords(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [word] of text.toLowerCase().matchAll(WORD)) {
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}

/** Reads the file at `path` (UTF-8) and counts its words: the map step of the word count. */
export async function countWordsInFile(path: string): Promise<Map<string, number>> {
  return countWords(await Deno.readTextFile(path));
}
