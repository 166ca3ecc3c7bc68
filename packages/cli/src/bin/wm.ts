import { run } from "../main.ts";

// No top-level await: the command chunks import this file (dist/wm.js holds the code every
// command shares; see scripts/cli-startup.mjs), and a module still awaiting would never finish
// loading for them.
void run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Leave once stdout and stderr have drained, skipping the heap teardown of a natural exit
  // (a few ms of every one-shot command; docs/performance.md).
  process.stdout.write("", () => process.stderr.write("", () => process.exit()));
});
