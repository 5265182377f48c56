// Loaded with `node --import` so a benchmarked child reports its own peak RSS (KiB) on exit.
process.on("exit", () => {
  process.stderr.write(`\nlethe-bench-rss=${process.resourceUsage().maxRSS}\n`);
});
