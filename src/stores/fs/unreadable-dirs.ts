import type { DiscoveredTable } from "../../core/types.js";
import { shapeSegment } from "../discover-shape.js";

/**
 * Directories a discover walk could not read (EACCES…), as findings: they may hold personal data nobody
 * inspected, so the report must not read as if the store were covered. Grouped by a masked shape of the
 * directory's path (as file groups are), never its name, with the error code.
 *
 * @example
 * const u = new UnreadableDirs(mask);
 * walkFiles(root, match, u.add);
 * tables.push(...u.tables()); // [{ table: "exports/*", columns: [{ name: "(unreadable)", reason: "1 directories …" }] }]
 */
export class UnreadableDirs {
  private readonly shapes = new Map<string, { n: number; codes: Set<string> }>();

  constructor(private readonly mask: (t: string) => string) {}

  readonly add = (dirRel: string, err: unknown): void => {
    const shape =
      dirRel === "."
        ? "."
        : dirRel
            .split("/")
            .map((s) => shapeSegment(s, this.mask))
            .join("/");
    const g = this.shapes.get(shape) ?? { n: 0, codes: new Set<string>() };
    g.n++;
    g.codes.add(String((err as NodeJS.ErrnoException).code ?? "UNREADABLE"));
    this.shapes.set(shape, g);
  };

  tables(): DiscoveredTable[] {
    return [...this.shapes].map(([shape, g]) => ({
      table: shape,
      aliases: [],
      kind: "files",
      columns: [
        {
          name: "(unreadable)",
          type: "path",
          samples: [],
          reason: `${g.n} director${g.n === 1 ? "y" : "ies"} could not be read (${[...g.codes].join(", ")}): the files in ${g.n === 1 ? "it were" : "them were"} not inspected`,
        },
      ],
    }));
  }
}
