// Which real services the tests use. Set DATABASE_URL / REDIS_URL (or TEST_-prefixed equivalents) to run
// against Postgres and Redis; unset, the tests run on the embedded default. A URL that is set but unreachable
// fails the run: nothing is skipped.
export const testDatabaseUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;
export const testRedisUrl = process.env.TEST_REDIS_URL || process.env.REDIS_URL || undefined;
export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString("base64");
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789";
export const TEST_SIGNING_KEY = Buffer.alloc(32, 9).toString("base64");
