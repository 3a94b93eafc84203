import type pg from "pg";
import type { BenchTenant } from "../setup.js";

export interface Timing {
  warmupMs: number;
  durationMs: number;
  timeoutMs: number;
}

export interface ScenarioEnv {
  /** http://127.0.0.1:<port> of the Maskline server. */
  origin: string;
  db: pg.Client;
  tenant: BenchTenant;
  timing: Timing;
  log: (line: string) => void;
}
