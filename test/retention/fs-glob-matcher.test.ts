import picomatch from "picomatch";
import { describe, expect, it } from "vitest";
import { globMatcher } from "../../src/stores/fs/walk.js";

// globMatcher skips picomatch's per-call result object; it must answer exactly what picomatch answers.
const GLOBS = [
  "checkpoints/**/*.pt",
  "**/*.{pt,onnx}",
  "users/*/uploads/**",
  "a[1].pt",
  "a(b).pt",
  "*.bin",
  "logs/!(keep)*.log",
  "**/.hidden/*",
  "x/?y/*.z",
];
const PATHS = [
  "checkpoints/run-1/step-1.pt",
  "checkpoints/step.pt",
  "checkpoints/a/b/c.onnx",
  "model.pt",
  "users/alice/uploads/a/b.bin",
  "users/alice/other/b.bin",
  "a[1].pt",
  "a1.pt",
  "a(b).pt",
  "ab.pt",
  "x.bin",
  "d/x.bin",
  "logs/keep-1.log",
  "logs/drop-1.log",
  "a/.hidden/f",
  ".hidden/f",
  "x/ay/b.z",
  "",
];

describe("fs glob matcher", () => {
  it("answers as picomatch does, for includes and excludes", () => {
    for (const inc of [GLOBS, ...GLOBS.map((g) => [g]), []])
      for (const exc of [[], ["**/*.onnx", "a[1].pt"]]) {
        const ours = globMatcher(inc, exc);
        const ref = (p: string) => picomatch(inc)(p) && !(exc.length > 0 && picomatch(exc)(p));
        for (const p of PATHS) expect(ours(p), `${p} with ${inc.join(",")} / ${exc.join(",")}`).toBe(ref(p));
      }
  });
});
