import type { DatasetConfig } from "../../config/types.js";
import type { DiscoveredTable, DiscoverRequest } from "../../core/types.js";
import { CONTENT_BYTES, MAX_LISTED } from "../discover-paths.js";
import { GroupSample } from "../discover-sample.js";
import { collapseShapes, type ShapedName, shapeSegment, starCounts } from "../discover-shape.js";
import type { RedisClient } from "./client.js";
import { keyBytes } from "./key-bytes.js";
import { keyPattern } from "./key-pattern.js";
import { scanKeys } from "./scan.js";

/** Elements read from a hash, list, set, sorted set or stream whose content is sampled. */
const ELEMENTS = 20;
/** Subject ids remembered from datasets' keys, to recognise them in keys no dataset covers. */
const MAX_SUBJECTS = 10_000;

interface Group {
  dataset: string | undefined;
  names: ShapedName[];
  keys: string[];
  values: string[];
  /** Dataset name → keys holding one of its subjects' ids. */
  subjects: Map<string, number>;
}

/**
 * `lethe discover` over a Redis database: every key (SCAN, at most
 * {@link MAX_LISTED}) that no dataset with a `{subject}` pattern owns is
 * grouped under a masked pattern of its name (`session:#:*`: `:`-separated
 * segments, detector findings become markers, digit runs `#`, the last
 * segment `*`), and up to `sampleSize` keys' values per shape are read (a
 * string's first bytes, a few elements of a hash, list, set, sorted set or
 * stream) for the redact detectors, spread over the shapes ({@link GroupSample}). A key holding, as one of its segments, a subject id
 * seen in a dataset's keys is a finding of its own: that person's data would
 * survive an erasure. Samples stay in memory.
 *
 * @example
 * const groups = await discoverKeys(client, { sampleSize: 1000, datasets, mask });
 */
export async function discoverKeys(client: RedisClient, req: DiscoverRequest): Promise<DiscoveredTable[]> {
  const owners = req.datasets.filter((d) => d.pattern).map((d) => ({ d, p: keyPattern(d.pattern as string) }));
  const subjects = new Map<string, string>(); // subject id → dataset name
  const loose: { key: string; owner: DatasetConfig | undefined }[] = [];
  let listed = 0;
  outer: for await (const keys of scanKeys(client, "*")) {
    for (const key of keys) {
      if (++listed > MAX_LISTED) break outer;
      const owner = owners.find((o) => o.p.owns(key));
      const subject = owner?.p.subjectOf(key);
      if (owner && subject !== undefined) {
        if (subjects.size < MAX_SUBJECTS && subject.length >= 3) subjects.set(subject, owner.d.name);
        continue; // an erasure finds these by their name
      }
      loose.push({ key, owner: owner?.d });
    }
  }
  const groups = new Map<string, Group>();
  const reads = new GroupSample<string>(req.sampleSize);
  // A segment of many distinct values (ids) is one `*`, however the ids are spelled: shapes stay bounded.
  const names = loose.map(({ key, owner }) => {
    const raw = key.split(":");
    return { scope: owner?.name ?? "", raw, shape: template(raw, subjects, req.mask) };
  });
  collapseShapes(names);
  for (const [i, { key, owner }] of loose.entries()) {
    const n = names[i] as ShapedName;
    const segments = n.raw;
    const hits = [...new Set(segments.flatMap((s) => (subjects.has(s) ? [subjects.get(s) as string] : [])))];
    const name = n.shape.join(":");
    const g: Group = groups.get(name) ?? {
      dataset: owner?.name,
      names: [],
      keys: [],
      values: [],
      subjects: new Map(),
    };
    groups.set(name, g);
    g.names.push(n);
    for (const d of hits) g.subjects.set(d, (g.subjects.get(d) ?? 0) + 1);
    if (g.keys.length < req.sampleSize) g.keys.push(key);
    if (req.sampleSize > 0) reads.add(name, key);
  }
  await reads.read(async (name, key) => {
    const text = await sample(client, keyBytes(key));
    if (text !== undefined) groups.get(name)?.values.push(text);
    return text !== undefined;
  });
  return [...groups].map(([table, g]) => {
    const distinct = starCounts(g.names);
    return {
      table,
      aliases: [],
      kind: "keys" as const,
      ...(g.dataset ? { dataset: g.dataset } : {}),
      ...(distinct.length > 0 ? { distinct } : {}),
      columns: [
        { name: "(key)", type: "key", samples: g.keys, unit: "keys", ...subjectReason(g, req.datasets) },
        { name: "(value)", type: "text", samples: g.values, unit: "keys" },
      ],
    };
  });
}

function subjectReason(g: Group, datasets: DatasetConfig[]): { reason?: string } {
  const [name, n] = [...g.subjects].sort((a, b) => b[1] - a[1])[0] ?? [];
  if (!name) return {};
  const pattern = datasets.find((d) => d.name === name)?.pattern;
  return {
    reason: `${n} keys hold subject ids of datasets.${name} (${pattern}) but no dataset's pattern, so an erasure would leave them`,
  };
}

/** A key's shape, segment by segment (its group name joined by `:`): never a value. */
function template(segments: string[], subjects: Map<string, string>, mask: (t: string) => string): string[] {
  const head = segments.length > 1 ? segments.slice(0, -1) : segments;
  const parts = head.map((s) => (subjects.has(s) ? "{subject}" : shapeSegment(s, mask)));
  return segments.length > 1 ? [...parts, "*"] : parts;
}

/** Some of a key's content as text, whatever its type; undefined when it is gone, binary or unreadable. */
async function sample(client: RedisClient, key: Buffer): Promise<string | undefined> {
  try {
    const type = await client.type(key);
    let parts: unknown[];
    if (type === "string") parts = [await client.getRange(key, 0, CONTENT_BYTES - 1)];
    else if (type === "hash")
      parts = (await client.hScan(key, "0", { COUNT: ELEMENTS })).entries.flatMap((e) => [e.field, e.value]);
    else if (type === "list") parts = await client.lRange(key, 0, ELEMENTS - 1);
    else if (type === "set") parts = (await client.sScan(key, "0", { COUNT: ELEMENTS })).members;
    else if (type === "zset") parts = await client.zRange(key, 0, ELEMENTS - 1);
    else if (type === "stream")
      parts = ((await client.xRange(key, "-", "+", { COUNT: ELEMENTS })) ?? []).flatMap((m) =>
        Object.entries(m.message as Record<string, unknown>).flat(),
      );
    else return undefined;
    const text = parts.map(String).join("\n").slice(0, CONTENT_BYTES);
    return text.includes("\0") ? undefined : text;
  } catch {
    return undefined; // gone meanwhile, or a module type: judged by its name alone
  }
}
