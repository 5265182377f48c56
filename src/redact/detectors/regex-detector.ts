import type { Detector, Span } from "../types.js";

/** Accepts a match as `[start, end)` (possibly narrowed), or rejects it. */
export type Validate = (m: RegExpExecArray, text: string) => readonly [number, number] | undefined;

/** A precise check run at one position: a sticky regex and its validator. */
export interface Probe {
  readonly type: string;
  readonly priority: number;
  readonly re: RegExp;
  readonly validate: Validate;
}

export function probe(type: string, priority: number, source: string, flags: string, validate: Validate): Probe {
  return { type, priority, re: new RegExp(source, `${flags}y`), validate };
}

/** The whole match, unchanged. */
export const wholeMatch: Validate = (m) => [m.index, m.index + m[0].length];

/**
 * A detector whose `trigger` regex finds candidate positions cheaply and whose
 * probes decide at each one. Every regex pass over a log chunk costs about
 * the same whatever it looks for, so one trigger for several types is the
 * main lever on scan-logs throughput. Triggers are rare, so probing every
 * type at each one costs little.
 */
export function triggeredDetector(
  markers: Record<string, string>,
  trigger: RegExp,
  probes: readonly Probe[],
): Detector {
  const re = new RegExp(trigger.source, trigger.flags.includes("g") ? trigger.flags : `${trigger.flags}g`);
  return {
    markers,
    scan(text: string, out: Span[]): void {
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        for (const p of probes) {
          p.re.lastIndex = m.index;
          const pm = p.re.exec(text);
          const span = pm ? p.validate(pm, text) : undefined;
          if (span) out.push({ start: span[0], end: span[1], type: p.type, priority: p.priority });
        }
        // Resume just after the trigger, not after the finding: `Bearer eyJ…`
        // must also reach the JWT inside it so the more specific type wins.
        re.lastIndex = m.index + 1;
      }
    },
  };
}

/** A detector of one type from a global regex plus a validator. */
export function regexDetector(
  type: string,
  marker: string,
  priority: number,
  source: RegExp,
  validate: Validate,
): Detector {
  const flags = source.flags.includes("g") ? source.flags : `${source.flags}g`;
  const re = new RegExp(source.source, flags);
  return {
    markers: { [type]: marker },
    scan(text: string, out: Span[]): void {
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        const span = validate(m, text);
        if (span) out.push({ start: span[0], end: span[1], type, priority });
      }
    },
  };
}
