// The daemon (dist/wmd.js) under V8's CPU profiler, for `WM_DAEMON_ENTRY`: when it exits, the
// profile is written to $WM_BENCH_PROFILE_DIR/wmd-<pid>.cpuprofile (open it in Chrome DevTools
// or speedscope). `node --cpu-prof` cannot be given through NODE_OPTIONS, hence this.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import path from "node:path";

const dir = process.env.WM_BENCH_PROFILE_DIR ?? process.cwd();
const session = new Session();
session.connect();
session.post("Profiler.enable");
// Every 200 µs (V8's default is 1 ms): a guest call takes about that long.
session.post("Profiler.setSamplingInterval", { interval: 200 });
session.post("Profiler.start");
process.on("exit", () => {
  // A session on the main thread answers synchronously, so this runs before the process ends.
  session.post("Profiler.stop", (err, result) => {
    if (!err)
      writeFileSync(
        path.join(dir, `wmd-${process.pid}.cpuprofile`),
        JSON.stringify(result.profile),
      );
  });
});
await import(new URL("../../dist/wmd.js", import.meta.url).href);
