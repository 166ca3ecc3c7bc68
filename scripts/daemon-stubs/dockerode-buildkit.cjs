// Stands in for dockerode's lib/buildkit.js in the daemon bundle (scripts/daemon-bundle.mjs): its
// `followProgress` decodes BuildKit's protobuf records with protobufjs and a .proto file the bundle
// does not carry. wm follows its (classic) builds itself (backends/docker/build-progress.ts).
module.exports = {
  followProgress() {
    throw new Error(
      "docker.followProgress (BuildKit decoding) is not part of the wm daemon; follow the stream with modem.followProgress",
    );
  },
};
