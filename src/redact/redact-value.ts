import { types } from "node:util";
import { validCardPrefix } from "./detectors/card.js";
import { binaryMarker, MARKERS } from "./markers.js";
import type { TextScanner } from "./text-scanner.js";

/** Limits of the walk; anything beyond them is dropped, never passed through. */
export interface WalkLimits {
  /** Nesting depth before a value becomes `[DROPPED:TOO_DEEP]` (default 32). */
  maxDepth?: number;
  /** Longest string scanned; longer ones become `[DROPPED:TOO_LARGE]` (default 1 MiB). */
  maxStringLength?: number;
  /** Values visited per call before the rest become `[DROPPED:TOO_MANY]` (default 100 000). */
  maxNodes?: number;
  /**
   * JSON-ready output: Map → object (or `[key, value]` pairs), Set → array,
   * Error → `{type, message, stack, cause, …}`, Date → ISO string, `toJSON`
   * honoured. Without it, Maps, Sets, Errors and Dates keep their types.
   */
  plain?: boolean;
  /**
   * Scan strings (and keys) for personal data (default true). The logger
   * turns this off because it scans each finished line once instead, which
   * costs less than scanning every value and then the line.
   */
  scanStrings?: boolean;
}

interface Walk {
  nodes: number;
  chars: number;
  readonly ancestors: Set<object>;
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z_$-]*$/;

/**
 * Builds the deep copier behind `redact()`. It only reads the input: no
 * property is written, no prototype touched. Every read that can run user
 * code (getters, Proxy traps, `toJSON`) is guarded, and a failure drops that
 * field instead of showing it.
 */
export function createValueWalker(scanner: TextScanner, limits: WalkLimits = {}): (value: unknown) => unknown {
  const maxDepth = limits.maxDepth ?? 32;
  const maxString = limits.maxStringLength ?? 1024 * 1024;
  const maxNodes = limits.maxNodes ?? 100_000;
  const plain = limits.plain ?? false;
  const scanStrings = limits.scanStrings ?? true;
  const keyCache = new Map<string, string>();

  const text = (s: string, w: Walk): string => {
    if (s.length > maxString || w.chars + s.length > maxString * 8) return MARKERS.tooLarge;
    w.chars += s.length;
    return scanStrings ? scanner.redact(s) : s;
  };

  const outKey = (k: string, w: Walk): string => {
    if (!scanStrings || (PLAIN_KEY.test(k) && !scanner.hasCustomPatterns)) return k;
    let r = keyCache.get(k);
    if (r === undefined) {
      r = k.length > 1024 ? MARKERS.tooLarge : text(k, w);
      if (keyCache.size > 4096) keyCache.clear();
      keyCache.set(k, r);
    }
    return r;
  };

  const walk = (v: unknown, depth: number, w: Walk): unknown => {
    w.nodes++;
    switch (typeof v) {
      case "string":
        return text(v, w);
      case "number":
        return Number.isInteger(v) && Math.abs(v) >= 1e12 ? bigNumber(String(v), v) : v;
      case "bigint":
        return bigNumber(v.toString(), v);
      case "boolean":
      case "undefined":
        return v;
      case "symbol":
        return text(v.toString(), w);
      case "function":
        return "[Function]";
    }
    if (v === null) return null;
    const obj = v as object;
    if (w.nodes > maxNodes) return MARKERS.tooMany;
    if (depth >= maxDepth) return MARKERS.tooDeep;
    if (w.ancestors.has(obj)) return MARKERS.circular;
    w.ancestors.add(obj);
    try {
      return walkObject(obj, depth, w);
    } catch {
      return MARKERS.unreadable;
    } finally {
      w.ancestors.delete(obj);
    }
  };

  /** A card number stored as a number is still a card number. */
  const bigNumber = (digits: string, original: number | bigint): unknown =>
    validCardPrefix(digits.replace("-", "")) === digits.replace("-", "").length ? scanner.markerOf("card") : original;

  const walkObject = (v: object, depth: number, w: Walk): unknown => {
    if (Array.isArray(v)) return walkArray(v, depth, w);
    if (ArrayBuffer.isView(v) || types.isAnyArrayBuffer(v)) return binaryMarker(v.byteLength);
    if (types.isDate(v)) return plain ? dateString(v) : new Date(v.getTime());
    if (types.isMap(v)) return walkMap(v, depth, w);
    if (types.isSet(v)) return walkSet(v, depth, w);
    if (types.isNativeError(v) || v instanceof Error) return walkError(v as Error, depth, w);
    if (types.isBoxedPrimitive(v)) return walk(v.valueOf(), depth, w);
    if (types.isRegExp(v)) return text(String(v), w);
    if (types.isPromise(v) || types.isWeakMap(v) || types.isWeakSet(v)) return "[Object]";
    if (plain && !types.isProxy(v) && typeof (v as { toJSON?: unknown }).toJSON === "function") {
      return walk((v as { toJSON(): unknown }).toJSON(), depth + 1, w);
    }
    return walkFields(v, Object.keys(v), depth, w, {});
  };

  const walkFields = (
    v: object,
    keys: readonly string[],
    depth: number,
    w: Walk,
    out: Record<string, unknown>,
  ): Record<string, unknown> => {
    const src = v as Record<string, unknown>;
    for (const k of keys) {
      if (w.nodes > maxNodes) {
        put(out, "…", MARKERS.tooMany);
        break;
      }
      const key = outKey(k, w);
      if (scanner.keys.isSensitive(k)) {
        put(out, key, MARKERS.redacted);
        continue;
      }
      let value: unknown;
      try {
        value = src[k];
      } catch {
        put(out, key, MARKERS.unreadable);
        continue;
      }
      put(out, key, walk(value, depth + 1, w));
    }
    return out;
  };

  const walkArray = (v: readonly unknown[], depth: number, w: Walk): unknown[] => {
    const out: unknown[] = [];
    const n = v.length;
    for (let i = 0; i < n; i++) {
      if (w.nodes > maxNodes) {
        out.push(MARKERS.tooMany);
        break;
      }
      let item: unknown;
      try {
        item = v[i];
      } catch {
        out.push(MARKERS.unreadable);
        continue;
      }
      out.push(walk(item, depth + 1, w));
    }
    return out;
  };

  /** Reads at most what the node budget allows, so a huge Map cannot stall the caller. */
  const take = <T>(it: Iterable<T>, w: Walk): T[] => {
    const out: T[] = [];
    for (const x of it) {
      if (w.nodes + out.length > maxNodes) break;
      out.push(x);
    }
    return out;
  };

  const walkMap = (v: Map<unknown, unknown>, depth: number, w: Walk): unknown => {
    const entries = take(v.entries(), w);
    const stringKeys = entries.every(([k]) => typeof k === "string" || typeof k === "number");
    if (plain && stringKeys) {
      const out: Record<string, unknown> = {};
      for (const [k, value] of entries) {
        const ks = String(k);
        put(out, outKey(ks, w), scanner.keys.isSensitive(ks) ? MARKERS.redacted : walk(value, depth + 1, w));
      }
      if (entries.length < v.size) put(out, "…", MARKERS.tooMany);
      return out;
    }
    const pairs = entries.map(([k, value]): [unknown, unknown] => {
      const sensitive = typeof k === "string" && scanner.keys.isSensitive(k);
      const key = typeof k === "string" ? outKey(k, w) : walk(k, depth + 1, w);
      return [key, sensitive ? MARKERS.redacted : walk(value, depth + 1, w)];
    });
    if (entries.length < v.size) pairs.push(["…", MARKERS.tooMany]);
    return plain ? pairs : new Map(pairs);
  };

  const walkSet = (v: Set<unknown>, depth: number, w: Walk): unknown => {
    const items = take(v, w).map((item) => walk(item, depth + 1, w));
    if (items.length < v.size) items.push(MARKERS.tooMany);
    return plain ? items : new Set(items);
  };

  const walkError = (e: Error, depth: number, w: Walk): unknown => {
    const read = (k: string): unknown => {
      try {
        return (e as unknown as Record<string, unknown>)[k];
      } catch {
        return MARKERS.unreadable;
      }
    };
    const str = (x: unknown): string | undefined => (typeof x === "string" ? text(x, w) : undefined);
    const name = str(read("name")) ?? "Error";
    const message = str(read("message")) ?? "";
    const stack = str(read("stack"));
    let hasCause = false;
    try {
      hasCause = "cause" in e;
    } catch {}
    const cause = hasCause ? walk(read("cause"), depth + 1, w) : undefined;
    const extra = Object.keys(e).filter((k) => k !== "message" && k !== "stack" && k !== "name" && k !== "cause");
    if (plain) {
      const out: Record<string, unknown> = { type: name, message };
      if (stack !== undefined) out.stack = stack;
      if (hasCause) out.cause = cause;
      return walkFields(e, extra, depth, w, out);
    }
    const copy = new Error(message, hasCause ? { cause } : undefined);
    try {
      Object.setPrototypeOf(copy, Object.getPrototypeOf(e));
    } catch {}
    Object.defineProperty(copy, "name", { value: name, writable: true, configurable: true, enumerable: false });
    Object.defineProperty(copy, "stack", { value: stack, writable: true, configurable: true, enumerable: false });
    walkFields(e, extra, depth, w, copy as unknown as Record<string, unknown>);
    return copy;
  };

  return (value: unknown): unknown => {
    const w: Walk = { nodes: 0, chars: 0, ancestors: new Set() };
    try {
      return walk(value, 0, w);
    } catch {
      return MARKERS.failed;
    }
  };
}

/** Own-property write that cannot hit the `__proto__` setter. */
function put(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key !== "__proto__" && !Object.hasOwn(out, key)) {
    out[key] = value;
    return;
  }
  // Two keys redacted to the same marker both survive: `[EMAIL]`, `[EMAIL]#2`.
  let k = key;
  for (let n = 2; Object.hasOwn(out, k); n++) k = `${key}#${n}`;
  Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
}

function dateString(d: Date): string {
  return Number.isNaN(d.getTime()) ? "Invalid Date" : d.toISOString();
}
