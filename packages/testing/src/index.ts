export * from "./fake-daemon.ts";
export * from "./git-repo.ts";
export * from "./raw-http.ts";
export * from "./repo-root.ts";
export * from "./run-wm.ts";
export * from "./sandbox-client.ts";
export * from "./sandbox-home.ts";
export * from "./temp-home.ts";
