import { charClass, classEnd } from "./redis-glob.js";

/** One step of a glob over bytes: the bytes it accepts, and whether it repeats (`*`). */
interface Step {
  readonly bytes: Uint8Array;
  readonly star: boolean;
}

const ANY = new Uint8Array(256).fill(1);

/** A Redis glob (its UTF-8 bytes as latin1 text) as steps; `{subject}` is one byte or more. */
function steps(pattern: string): Step[] {
  const glob = Buffer.from(pattern, "utf8").toString("latin1");
  const out: Step[] = [];
  const one = (b: string) => {
    const bytes = new Uint8Array(256);
    bytes[b.charCodeAt(0)] = 1;
    out.push({ bytes, star: false });
  };
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (glob.startsWith("{subject}", i)) {
      out.push({ bytes: ANY, star: false }, { bytes: ANY, star: true });
      i += "{subject}".length - 1;
    } else if (c === "*") out.push({ bytes: ANY, star: true });
    else if (c === "?") out.push({ bytes: ANY, star: false });
    else if (c === "\\" && i + 1 < glob.length) one(glob[++i] as string);
    else if (c === "[" && classEnd(glob, i) >= 0) {
      const end = classEnd(glob, i);
      const re = new RegExp(`^${charClass(glob.slice(i + 1, end))}$`);
      const bytes = new Uint8Array(256);
      for (let b = 0; b < 256; b++) if (re.test(String.fromCharCode(b))) bytes[b] = 1;
      out.push({ bytes, star: false });
      i = end;
    } else one(c);
  }
  return out;
}

/** Bytes tried in this order, so the example key reads well (`x`, letters, digits, then any byte). */
const ORDER = [..."xabcdefghijklmnopqrstuvwyz0123456789"].map((c) => c.charCodeAt(0));
for (let b = 0; b < 256; b++) if (!ORDER.includes(b)) ORDER.push(b);

function meet(a: Uint8Array, b: Uint8Array): number {
  return ORDER.find((i) => a[i] && b[i]) ?? -1;
}

/**
 * A key both dataset patterns own (Redis glob semantics, byte by byte; `{subject}` stands for one byte or
 * more), or undefined when no key can match both. Walks the product of the two globs' automata, so it is
 * exact and bounded by the product of their lengths. Used to refuse two datasets of one store that share
 * keys: a key must belong to one dataset, or erasing one dataset's subject (or its retention) would act on
 * another dataset's key, past that dataset's holds.
 *
 * @example
 * sharedKey("user:{subject}:*", "user:profile:{subject}"); // "user:profile:x"
 * sharedKey("a:{subject}:*", "b:{subject}:*"); // undefined
 */
export function sharedKey(a: string, b: string): string | undefined {
  const [sa, sb] = [steps(a), steps(b)];
  const seen = new Set<number>();
  const width = sb.length + 1;
  const queue: { i: number; j: number; key: string }[] = [];
  const push = (i: number, j: number, key: string) => {
    if (seen.has(i * width + j)) return;
    seen.add(i * width + j);
    queue.push({ i, j, key });
  };
  push(0, 0, "");
  for (let q = 0; q < queue.length; q++) {
    const { i, j, key } = queue[q] as { i: number; j: number; key: string };
    if (i === sa.length && j === sb.length) return Buffer.from(key, "latin1").toString("utf8");
    const [x, y] = [sa[i], sb[j]];
    if (x?.star) push(i + 1, j, key);
    if (y?.star) push(i, j + 1, key);
    if (!x || !y) continue;
    const byte = meet(x.bytes, y.bytes);
    if (byte >= 0) push(x.star ? i : i + 1, y.star ? j : j + 1, key + String.fromCharCode(byte));
  }
  return undefined;
}
