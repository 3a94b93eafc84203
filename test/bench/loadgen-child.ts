/** Load-generator process: receives one LoadSpec over IPC, runs it, sends the LoadResult back, exits. */
import { runLoadInProcess, type LoadSpec } from "./loadgen.js";

process.send!({ ready: true });
process.once("message", (spec: LoadSpec) => {
  runLoadInProcess(spec, (mark) => process.send!({ mark })).then(
    (result) => process.send!({ result }, () => process.exit(0)),
    (err: unknown) => process.send!({ error: err instanceof Error ? err.stack ?? err.message : String(err) }, () => process.exit(1)),
  );
});
