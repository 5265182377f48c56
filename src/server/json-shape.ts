/**
 * Why a JSON text is refused before `JSON.parse` spends time on it: nesting
 * deeper than `maxDepth`, or an array with more than `maxArray` elements
 * (key path given as far as it is known); undefined when its shape is
 * within bounds. One pass over the characters, no allocation per value, so
 * an 800 KB body of nested brackets costs about a millisecond instead of the
 * parse (and the validators' recursion) it would trigger. Malformed JSON is
 * not judged here: `JSON.parse` reports it.
 *
 * @example
 * shapeProblem('{"a":[[[1]]]}', { maxDepth: 3, maxArray: 10 }); // "body.a.0.0: nested deeper than 3 levels"
 */
export function shapeProblem(text: string, limits: { maxDepth: number; maxArray: number }): string | undefined {
  const { maxDepth, maxArray } = limits;
  // Per open container: array element count (commas + 1), or -1 for an object.
  const counts = new Int32Array(maxDepth + 1);
  const keys: (string | undefined)[] = [];
  let depth = 0;
  let inString = false;
  let stringStart = 0;
  let lastString: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) {
        inString = false;
        // Only short strings are kept, as candidate keys for the error path.
        lastString = i - stringStart <= 64 ? text.slice(stringStart, i) : undefined;
      }
      continue;
    }
    switch (c) {
      case 0x22: // "
        inString = true;
        stringStart = i + 1;
        break;
      case 0x3a: // : after a key
        keys[depth] = lastString;
        break;
      case 0x7b: // {
      case 0x5b: // [
        if (depth >= maxDepth) return `${path(keys, counts, depth)}: nested deeper than ${maxDepth} levels`;
        depth++;
        counts[depth] = c === 0x5b ? 0 : -1;
        keys[depth] = undefined;
        break;
      case 0x7d: // }
      case 0x5d: // ]
        if (depth > 0) depth--;
        break;
      case 0x2c: // ,
        if ((counts[depth] as number) >= 0 && ++(counts[depth] as number) >= maxArray)
          return `${path(keys, counts, depth - 1)}: an array of more than ${maxArray} elements`;
        break;
    }
  }
  return undefined;
}

function path(keys: (string | undefined)[], counts: Int32Array, depth: number): string {
  const parts = ["body"];
  for (let d = 1; d <= depth; d++) {
    const n = counts[d] as number;
    parts.push(n >= 0 ? String(n) : (keys[d] ?? "?"));
  }
  return parts.join(".");
}
