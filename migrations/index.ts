import type { Knex } from "knex";
import * as foundation from "./001_foundation.js";
import * as masking from "./002_masking.js";
import * as personActiveIndex from "./003_person_active_index.js";
import * as retentionIndexes from "./004_retention_indexes.js";
import * as callPathHardening from "./005_call_path_hardening.js";
import * as idempotencyClaims from "./006_idempotency_claims.js";
import * as callUuidLookup from "./007_call_uuid_lookup.js";
import * as jobsOutbox from "./008_jobs_outbox.js";
import * as tenantKeys from "./009_tenant_keys.js";
import * as outboxFailures from "./010_outbox_failures.js";
import * as eventsWebhooks from "./011_events_webhooks.js";
import * as endpointTombstones from "./012_endpoint_tombstones.js";
import * as callFlows from "./013_call_flows.js";
import * as privacy from "./014_privacy.js";
import * as auditLog from "./015_audit_log.js";
import * as consoleSessions from "./016_console.js";
import * as poolGauges from "./017_pool_gauges.js";
import * as usageIndexes from "./018_usage_indexes.js";

// A static list instead of a directory scan, so migrations run the same under tsx, vitest and a bundle.
const migrations: Record<string, Knex.Migration> = {
  "001_foundation": foundation,
  "002_masking": masking,
  "003_person_active_index": personActiveIndex,
  "004_retention_indexes": retentionIndexes,
  "005_call_path_hardening": callPathHardening,
  "006_idempotency_claims": idempotencyClaims,
  "007_call_uuid_lookup": callUuidLookup,
  "008_jobs_outbox": jobsOutbox,
  "009_tenant_keys": tenantKeys,
  "010_outbox_failures": outboxFailures,
  "011_events_webhooks": eventsWebhooks,
  "012_endpoint_tombstones": endpointTombstones,
  "013_call_flows": callFlows,
  "014_privacy": privacy,
  "015_audit_log": auditLog,
  "016_console": consoleSessions,
  "017_pool_gauges": poolGauges,
  "018_usage_indexes": usageIndexes,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name]!,
};
