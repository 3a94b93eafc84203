import { run } from "./run.js";

// `maskline …`: the process's arguments, environment and streams; the exit code says how it went (run.ts).
process.exitCode = await run(process.argv.slice(2), process.env, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
