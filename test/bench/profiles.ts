/**
 * The two run profiles: full (issue 4's scales, 10 s runs; growth to 30,000 sessions) and quick (small scales, 3 s
 * runs, growth to 8,000 sessions, for development).
 */
import type { PreloadOptions } from "./preload.js";
import type { AnswerLoadConfig } from "./scenarios/answer.js";
import type { CreateLoadConfig } from "./scenarios/create.js";
import type { GrowthConfig } from "./scenarios/growth.js";
import type { Timing } from "./scenarios/types.js";

export interface Profile {
  levels: number[];
  timing: Timing;
  answer: AnswerLoadConfig;
  create: CreateLoadConfig;
  preload: PreloadOptions;
  dids: number;
  routingSamples: number;
  growth: GrowthConfig;
}

export const FULL: Profile = {
  levels: [10_000, 100_000, 1_000_000],
  timing: { warmupMs: 2_000, durationMs: 10_000, timeoutMs: 10_000 },
  answer: { connections: 64, rate: 1_000, openConnections: 128 },
  create: { connections: 32, rate: 500, openConnections: 128, drivers: 200, driverShare: 0.3, maxPerDriver: 50 },
  preload: { busyShare: 0.3, maxPerBusy: 50, chunk: 25_000, reservoirSize: 50_000, ttlSeconds: 6 * 3600 },
  dids: 1_000,
  routingSamples: 500,
  growth: {
    targetSessions: 30_000,
    createWindowMs: 3_000,
    answerWindowMs: 2_000,
    loadWarmupMs: 500,
    serverWarmupMs: 5_000,
    createConnections: 32,
    answerConnections: 64,
    drivers: 20,
    driverShare: 0.3,
    maxPerDriver: 50,
    maxGrowMs: 240_000,
    routeSample: 5_000,
  },
};

export const QUICK: Profile = {
  ...FULL,
  levels: [2_000, 20_000],
  timing: { warmupMs: 1_000, durationMs: 3_000, timeoutMs: 10_000 },
  preload: { ...FULL.preload, chunk: 10_000, reservoirSize: 20_000 },
  routingSamples: 200,
  growth: {
    ...FULL.growth,
    targetSessions: 8_000,
    createWindowMs: 2_000,
    answerWindowMs: 1_000,
    loadWarmupMs: 300,
    serverWarmupMs: 3_000,
    maxGrowMs: 90_000,
    routeSample: 2_000,
  },
};
