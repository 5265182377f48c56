#!/usr/bin/env node
// Usage: npm run test:soak [-- RUNS]   (default 10 runs; SOAK_BURNERS=2 CPU-bound processes beside it)
// Runs the whole test command (`npm test`: build, lint, typecheck, every test with its services) RUNS times
// in a row while SOAK_BURNERS busy loops compete for the CPU, as on a 2-core CI machine doing other work.
// Stops at the first red run. Prints one line per run and a closing `N passed, N failed` line.
import { spawn } from "node:child_process";

const runs = Number(process.argv[2] ?? process.env.SOAK_RUNS ?? 10);
const burnerCount = Number(process.env.SOAK_BURNERS ?? 2);
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write("soak: RUNS must be a whole number ≥ 1\n");
  process.exit(2);
}

// Each burner is a separate process spinning one core until it is killed.
const burners = Array.from({ length: burnerCount }, () =>
  spawn(process.execPath, ["-e", "for (;;) Math.sqrt(Math.random())"], { stdio: "ignore" }),
);
const stopBurners = () => {
  for (const b of burners) b.kill("SIGKILL");
};
process.on("exit", stopBurners);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));

function npmTest() {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn("npm", ["test"], { stdio: ["ignore", "inherit", "inherit"] });
    child.on("exit", (code) => resolve({ code: code ?? 1, seconds: (Date.now() - t0) / 1000 }));
  });
}

let passed = 0;
let failed = 0;
for (let i = 1; i <= runs; i++) {
  const r = await npmTest();
  if (r.code === 0) passed++;
  else failed++;
  process.stdout.write(
    `soak: run ${i}/${runs}: ${r.code === 0 ? "green" : `RED (exit ${r.code})`} in ${r.seconds.toFixed(0)} s\n`,
  );
  if (r.code !== 0) break;
}
stopBurners();
process.stdout.write(`soak: ${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
