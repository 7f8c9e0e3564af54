// The piscina task of the peer row: add(a, b), as the Deno contenders run it.
export default function add([a, b]) {
  return a + b;
}
