import { ConfigError, loadConfig } from "./config.js";
import { buildRuntime } from "./bootstrap.js";

// `pnpm migrate`: apply pending migrations and exit (`pnpm start` also applies them).
try {
  const runtime = await buildRuntime(loadConfig(process.env));
  runtime.deps.logger.info("migrations applied");
  await runtime.close();
} catch (err) {
  process.stderr.write(`maskline: ${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
