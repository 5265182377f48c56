import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { ERROR_CODES } from "../../src/core/errors.js";
import { HTTP_STATUS } from "../../src/server/http-status.js";

/** The README's error code table is the registry as shipped: every code, its meaning, exit code and HTTP status. */
describe("README error codes table", () => {
  it("lists every code of src/core/errors.ts with its exit code and HTTP status", () => {
    const readme = readFileSync(resolve(import.meta.dirname, "../../README.md"), "utf8");
    const rows = new Map(
      [...readme.matchAll(/^\| `([A-Z_]+)` \| (.+) \| (\d) \| (\d{3}) \|$/gm)].map((m) => [m[1], m.slice(2)]),
    );
    for (const [code, meaning] of Object.entries(ERROR_CODES))
      expect(rows.get(code), code).toEqual([
        meaning,
        String(EXIT_CODES[code as keyof typeof EXIT_CODES]),
        String(HTTP_STATUS[code as keyof typeof HTTP_STATUS]),
      ]);
    expect(rows.size).toBe(Object.keys(ERROR_CODES).length);
  });
});
