// Stands in for docker-modem's lib/ssh.js in the daemon bundle (scripts/daemon-bundle.mjs): that
// module loads the ssh2 client, and its WebAssembly, at the daemon's start, for `ssh://` Docker
// hosts; wm talks to engines over a Unix socket only. Should a call get here anyway (docker-modem
// takes DOCKER_HOST from the environment), it fails with the reason, as the engine call's error.
const http = require("node:http");

const refusal = () =>
  new Error(
    `DOCKER_HOST=${process.env.DOCKER_HOST ?? "ssh://…"} is not supported by wm: it talks to Docker over a Unix socket only (unset DOCKER_HOST or set it to unix:///var/run/docker.sock)`,
  );

module.exports = function sshAgent() {
  const agent = new http.Agent();
  agent.createConnection = (_options, callback) => {
    process.nextTick(callback, refusal());
  };
  return agent;
};
