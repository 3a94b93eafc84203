/**
 * Processes a test owns (fault suite): its own Redis, its own Postgres cluster, the real service as a child
 * process. Each starts on a free port of 127.0.0.1 with its data in a temporary folder removed at teardown, so a
 * test that kills one never touches the shared Postgres (5432) or Redis (6379).
 */
export { ownedTools, type OwnedTools } from "./tools.js";
export { startOwnedRedis, type OwnedRedis } from "./redis.js";
export { startOwnedPostgres, type OwnedPostgres } from "./postgres.js";
export { startServiceProcess, type ServiceProcess } from "./service.js";
export { waitFor, within } from "./processes.js";
