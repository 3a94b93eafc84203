import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  CALL_STATUS_VALUES,
  ERROR_CODE_FOR_STATUS,
  ERROR_CODE_VALUES,
  ERROR_TABLE,
  PAGE_SIZE,
  SCHEMA_DEFAULTS,
  SCHEMA_FALLBACKS,
  SCHEMA_PROPERTIES,
} from "../../openapi/generated/constants.js";
import { checkGenerated, generate, SPEC_PATH, writeGenerated } from "../../scripts/gen.mjs";
import { ERROR_CODES, codeForStatus } from "../../server/src/errors.js";
import { buildOperations, openapiDocument, operationsById, type OpenApiDocument, type OperationId } from "../../server/src/http/openapi.js";
import { CARRIER_FIELD_NAMES } from "../../server/src/domain/carrier-fields.js";
import { DEFAULT_MESSAGES } from "../../server/src/domain/messages.js";
import { DEFAULT_RETENTION_DAYS } from "../../server/src/domain/tenant-settings.js";

// Read straight from the YAML a person edits: the constants must say what it says.
type Node = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const specText = await readFile(SPEC_PATH, "utf8");
const spec = parse(specText) as Node;
const schemas = spec.components.schemas as Node;

const operation = (id: OperationId) => operationsById.get(id)!;
const minimalApp = () => ({ name: "App", vobizAuthId: "MA_X", vobizAuthToken: "token" });
const minimalSession = () => ({ participants: [{ number: "+919812345670" }, { number: "+919812345671" }] });

describe("constants derived from openapi.yaml", () => {
  it("are the spec's enums, error table, defaults, fallbacks and page size", () => {
    expect(ERROR_CODE_VALUES).toEqual(schemas.ErrorCode.enum);
    expect(ERROR_TABLE).toEqual(schemas.ErrorCode["x-error-table"]);
    expect(CALL_STATUS_VALUES).toEqual(schemas.CallStatus.enum);
    expect(SCHEMA_DEFAULTS.CreateAppRequest).toEqual({
      signatureRequired: schemas.CreateAppRequest.properties.signatureRequired.default,
      defaultCountry: schemas.CreateAppRequest.properties.defaultCountry.default,
      ringTimeoutSeconds: schemas.CreateAppRequest.properties.ringTimeoutSeconds.default,
      maxCallSeconds: schemas.CreateAppRequest.properties.maxCallSeconds.default,
      recordCalls: schemas.CreateAppRequest.properties.recordCalls.default,
    });
    expect(SCHEMA_DEFAULTS.CreateSessionRequest.ttlSeconds).toBe(schemas.CreateSessionRequest.properties.ttlSeconds.default);
    expect(SCHEMA_DEFAULTS.TenantSettings.retentionDays).toBe(schemas.TenantSettings.properties.retentionDays.default);
    const messages = schemas.AppMessages.properties as Node;
    expect(SCHEMA_FALLBACKS.AppMessages).toEqual(Object.fromEntries(Object.entries(messages).map(([k, v]) => [k, v["x-fallback"]])));
    const limit = spec.components.parameters.Limit.schema as Node;
    expect(PAGE_SIZE).toEqual({ default: limit.default, minimum: limit.minimum, maximum: limit.maximum });
  });

  it("are what the server, the carrier edge and the purge use, not copies of them", () => {
    expect(ERROR_CODES).toBe(ERROR_TABLE);
    for (const [status, code] of Object.entries(ERROR_CODE_FOR_STATUS)) expect(codeForStatus(Number(status))).toBe(code);
    expect(CARRIER_FIELD_NAMES).toEqual(Object.keys(schemas.VobizCallback.properties));
    expect(DEFAULT_MESSAGES).toEqual(SCHEMA_FALLBACKS.AppMessages);
    expect(DEFAULT_RETENTION_DAYS).toBe(SCHEMA_DEFAULTS.TenantSettings.retentionDays);
    expect(SCHEMA_PROPERTIES.AppMessages).toEqual(Object.keys(schemas.AppMessages.properties));
  });

  it("give every ErrorCode one row of the table, and a bare status the first code that has it", () => {
    expect(Object.keys(ERROR_TABLE)).toEqual([...ERROR_CODE_VALUES]);
    expect(ERROR_CODE_FOR_STATUS[409]).toBe("conflict");
    expect(codeForStatus(418)).toBe("bad_request");
    expect(codeForStatus(599)).toBe("internal_error");
  });
});

describe("request validation applies the spec's defaults", () => {
  it("gives a list without `limit` the page size of components.parameters.Limit, a $ref parameter", () => {
    for (const id of ["sessions.list", "calls.list", "apps.list", "numbers.list", "pools.list", "apiKeys.list", "admin.tenants.list"] as const) {
      const query: Record<string, unknown> = {};
      expect(operation(id).validateQuery(query)).toEqual([]);
      expect(query.limit, id).toBe(PAGE_SIZE.default);
    }
    const chosen: Record<string, unknown> = { limit: "5" };
    expect(operation("sessions.list").validateQuery(chosen)).toEqual([]);
    expect(chosen.limit).toBe(5);
  });

  it("fills a create body's left-out properties, beside a $ref too, and leaves a PATCH body alone", () => {
    const app: Record<string, unknown> = minimalApp();
    expect(operation("apps.create").validateBody!(app)).toEqual([]);
    expect(app).toEqual({ ...minimalApp(), ...SCHEMA_DEFAULTS.CreateAppRequest });

    const session: Record<string, unknown> = minimalSession();
    expect(operation("sessions.create").validateBody!(session)).toEqual([]);
    expect(session).toEqual({ ...minimalSession(), ...SCHEMA_DEFAULTS.CreateSessionRequest });

    const patch: Record<string, unknown> = { name: "Renamed" };
    expect(operation("apps.update").validateBody!(patch)).toEqual([]);
    expect(patch).toEqual({ name: "Renamed" });
  });

  it("never writes a message fallback into an app's messages", () => {
    const app: Record<string, unknown> = { ...minimalApp(), messages: { notAllowed: "No." } };
    expect(operation("apps.create").validateBody!(app)).toEqual([]);
    expect(app.messages).toEqual({ notAllowed: "No." });
  });

  it("follows a default changed in the spec, with no other edit", () => {
    const changed = structuredClone(openapiDocument) as unknown as Node;
    changed.components.parameters.Limit.schema.default = 7;
    changed.components.schemas.CreateSessionRequest.properties.ttlSeconds.default = 60;
    const ops = buildOperations(changed as OpenApiDocument);
    const query: Record<string, unknown> = {};
    ops.get("calls.list")!.validateQuery(query);
    expect(query.limit).toBe(7);
    const session: Record<string, unknown> = minimalSession();
    ops.get("sessions.create")!.validateBody!(session);
    expect(session.ttlSeconds).toBe(60);
  });
});

describe("gen:check", () => {
  let dir: string;
  let specPath: string;
  let outDir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "maskline-gen-"));
    specPath = join(dir, "openapi.yaml");
    outDir = join(dir, "generated");
    await copyFile(SPEC_PATH, specPath);
    await writeGenerated({ specPath, outDir });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("passes for the committed generated files", async () => {
    expect(await checkGenerated()).toEqual([]);
  });

  it("passes for files just generated from a copy of the spec", async () => {
    expect(await checkGenerated({ specPath, outDir })).toEqual([]);
  });

  it("fails on constants.ts when a spec default changes without `pnpm gen`", async () => {
    const edited = specText.replace(
      "schema: { type: integer, minimum: 1, maximum: 100, default: 20 }",
      "schema: { type: integer, minimum: 1, maximum: 100, default: 25 }",
    );
    expect(edited).not.toBe(specText);
    await writeFile(specPath, edited);
    expect(await checkGenerated({ specPath, outDir })).toContain("constants.ts");
    expect((await generate(edited))["constants.ts"]).toContain("default: 25");
  });

  it("fails on constants.ts when a hand edit makes it differ from the spec", async () => {
    await copyFile(SPEC_PATH, specPath);
    await writeGenerated({ specPath, outDir });
    const path = join(outDir, "constants.ts");
    await writeFile(path, (await readFile(path, "utf8")).replace('pool_exhausted: { status: 409', 'pool_exhausted: { status: 503'));
    expect(await checkGenerated({ specPath, outDir })).toEqual(["constants.ts"]);
  });

  it("refuses an error table that does not list exactly the ErrorCode enum", async () => {
    const broken = specText.replace(/\n {8}rate_limited: \{ status: 429, title: Too many requests \}/, "");
    expect(broken).not.toBe(specText);
    await expect(generate(broken)).rejects.toThrow(/x-error-table must list exactly the enum/);
  });
});
