import type { DatasetConfig } from "../config/types.js";
import type { DiscoveredTable, DiscoverRequest } from "../core/types.js";
import { GroupSample } from "./discover-sample.js";
import { collapseShapes, type ShapedName, shapeSegment, starCounts } from "./discover-shape.js";
import { subjectPattern } from "./fs/subject-pattern.js";
import { globMatcher } from "./fs/walk.js";

/** Bytes read from the start of a file or object whose content is sampled. */
export const CONTENT_BYTES = 16 * 1024;
/** Paths or keys looked at per store, at most. */
export const MAX_LISTED = 100_000;

export interface PathEntry {
  /** Path relative to the root, or key relative to the prefix. */
  rel: string;
  size: number;
}

export interface PathDiscovery extends DiscoverRequest {
  kind: "files" | "objects" | "keys";
  /** The first `max` bytes, or undefined when unreadable. */
  read?(e: PathEntry, max: number): Promise<Buffer | undefined>;
}

interface Group {
  dataset: string | undefined;
  names: ShapedName[];
  paths: string[];
  contents: string[];
  /** Dataset name → items whose path its subject pattern matches. */
  subjects: Map<string, number>;
}

/**
 * Discovery over things named by paths (fs files, S3 objects, Redis keys):
 * every item no dataset with a subject pattern covers is grouped under a
 * masked pattern of its path (`exports/u-#/*.csv`: subject values become
 * `{subject}`, detector findings their markers, digit runs `#`, file names
 * `*.ext`), with its path sampled, and the first {@link CONTENT_BYTES} of
 * items read as text (binary ones skipped): up to `sampleSize` per group,
 * spread over the groups ({@link GroupSample}) so a small folder is read
 * even beside a huge one. A path that a
 * dataset's `subjectFromPath` matches outside every dataset's globs is a
 * finding of its own: that person's items would survive an erasure.
 *
 * @example
 * const groups = await discoverPaths(walk(), { kind: "files", sampleSize: 1000, datasets, mask, read });
 */
export async function discoverPaths(
  entries: AsyncIterable<PathEntry> | Iterable<PathEntry>,
  opts: PathDiscovery,
): Promise<DiscoveredTable[]> {
  const owners = opts.datasets.map((d) => ({ d, match: globMatcher(d.include, d.exclude) }));
  const patterns = opts.datasets.flatMap((d) =>
    d.subjectFromPath ? [{ d, p: subjectPattern(d.subjectFromPath), glob: d.subjectFromPath }] : [],
  );
  const groups = new Map<string, Group>();
  const sample = new GroupSample<PathEntry>(opts.sampleSize);
  const listedEntries: { e: PathEntry; owner: DatasetConfig | undefined; hits: DatasetConfig[]; n: ShapedName }[] = [];
  let listed = 0;
  for await (const e of entries) {
    if (++listed > MAX_LISTED) break;
    const owner = owners.find((o) => o.d.include.length > 0 && o.match(e.rel))?.d;
    if (owner?.subjectFromPath) continue; // an erasure finds these by their path
    const subjects: string[] = [];
    const hits: DatasetConfig[] = [];
    for (const { d, p } of patterns) {
      const s = p.extract(e.rel);
      if (s !== undefined) {
        subjects.push(s);
        hits.push(d);
      }
    }
    listedEntries.push({
      e,
      owner,
      hits,
      n: { scope: owner?.name ?? "", raw: e.rel.split("/"), shape: template(e.rel, subjects, opts.mask) },
    });
  }
  // A folder level of many distinct names (ids) is one `*`, however they are spelled: shapes stay bounded.
  collapseShapes(listedEntries.map((l) => l.n));
  for (const { e, owner, hits, n } of listedEntries) {
    const name = n.shape.join("/");
    const g: Group = groups.get(name) ?? {
      dataset: owner?.name,
      names: [],
      paths: [],
      contents: [],
      subjects: new Map(),
    };
    groups.set(name, g);
    g.names.push(n);
    for (const d of hits) g.subjects.set(d.name, (g.subjects.get(d.name) ?? 0) + 1);
    // Judged segment by segment: `by-mail/frank.q@x.io` is a folder and an email, not one address whose excerpt
    // would start at the folder (`/` is legal in an address).
    if (g.paths.length < opts.sampleSize) g.paths.push(e.rel.split("/").join("\n"));
    if (opts.read && e.size > 0) sample.add(name, e);
  }
  const read = opts.read;
  if (read)
    await sample.read(async (name, e) => {
      const buf = await read(e, CONTENT_BYTES);
      if (buf && !buf.includes(0)) groups.get(name)?.contents.push(buf.toString("utf8"));
      return buf !== undefined;
    });
  const unit = opts.kind === "keys" ? "keys" : opts.kind;
  return [...groups].map(([table, g]) => {
    const distinct = starCounts(g.names);
    return {
      table,
      aliases: [],
      kind: opts.kind,
      ...(g.dataset ? { dataset: g.dataset } : {}),
      ...(distinct.length > 0 ? { distinct } : {}),
      columns: [
        {
          name: opts.kind === "keys" ? "(key)" : "(path)",
          type: "path",
          samples: g.paths,
          unit: opts.kind === "keys" ? "keys" : "paths",
          ...subjectReason(g, patterns, unit),
        },
        ...(opts.read ? [{ name: "(content)", type: "text", samples: g.contents, unit }] : []),
      ],
    };
  });
}

function subjectReason(g: Group, patterns: { d: DatasetConfig; glob: string }[], unit: string): { reason?: string } {
  const [name, n] = [...g.subjects].sort((a, b) => b[1] - a[1])[0] ?? [];
  if (!name) return {};
  const glob = patterns.find((p) => p.d.name === name)?.glob;
  return {
    reason: `${n} ${unit} match datasets.${name}.subjectFromPath (${glob}) but no dataset's globs, so an erasure would leave them`,
  };
}

/** A path's shape, segment by segment (its group name joined by `/`): never a value. */
function template(rel: string, subjects: string[], mask: (t: string) => string): string[] {
  const parts = rel.split("/");
  const file = parts.pop() ?? "";
  const dot = file.lastIndexOf(".");
  const ext = dot > 0 && /^\.[A-Za-z0-9]{1,8}$/.test(file.slice(dot)) ? file.slice(dot) : "";
  const dirs = parts.map((seg) => (subjects.includes(seg) ? "{subject}" : shapeSegment(seg, mask)));
  return [...dirs, `*${ext}`];
}
