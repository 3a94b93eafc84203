/**
 * The fault files' describe: a skip naming what is missing when the owned services cannot run here (outside CI;
 * under CI a missing binary throws from ownedTools() and fails the file). See test/support/owned/tools.ts.
 */
import { describe } from "vitest";
import { ownedTools } from "../support/owned/index.js";

const tools = await ownedTools();

export function describeWithOwnedServices(title: string, body: () => void) {
  if (tools.available) return describe(title, body);
  process.stderr.write(`[fault suite] skipping "${title}": ${tools.why}\n`);
  return describe.skip(`${title} (skipped: ${tools.why})`, body);
}
