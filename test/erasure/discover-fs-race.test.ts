import { mkdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createFsStore } from "../../src/stores/fs/driver.js";
import { tempDir } from "../helpers/cli.js";

describe("fs discover reads a sampled file only through the folders it walked", () => {
  it("a folder swapped for a link (to a place outside the root) after the walk is not read through", async () => {
    const dir = tempDir();
    const [root, outside] = [join(dir, "root"), join(dir, "outside")];
    mkdirSync(join(root, "a"), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(root, "a", "x.txt"), "nothing personal here\n");
    writeFileSync(join(outside, "x.txt"), "uma.planted@example.com\nvic.planted@example.com\n");
    const store = await createFsStore({ name: "files", kind: "fs", root });
    let swapped = false;
    // mask() runs while the walked paths are grouped, after `a` was listed and before any file is read:
    // the moment a hostile local user would swap the folder for a link to /etc.
    const mask = (t: string) => {
      if (!swapped) {
        swapped = true;
        renameSync(join(root, "a"), join(root, "a-old"));
        symlinkSync(outside, join(root, "a"));
      }
      return t;
    };
    const tables = await store.discover?.({ sampleSize: 10, datasets: [], mask });
    await store.close();
    expect(swapped).toBe(true);
    const contents = tables?.flatMap((t) => t.columns.filter((c) => c.name === "(content)").flatMap((c) => c.samples));
    expect(contents).toEqual([]);
  });
});
