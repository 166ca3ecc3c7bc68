import { execFileSync } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "./repo-root.ts";

/** Build dist/ once so integration tests run the same bundles users run. */
export default function setup(): void {
  if (process.env.WM_TEST_NO_BUILD === "1") return;
  execFileSync(process.execPath, [path.join(REPO_ROOT, "scripts/build.mjs")], { stdio: "inherit" });
}
