import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const DIST = path.join(REPO_ROOT, "dist");
export const WM_BIN = path.join(DIST, "wm.cjs");
export const WMD_BIN = path.join(DIST, "wmd.js");
