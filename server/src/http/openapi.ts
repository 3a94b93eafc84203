import { createRequire } from "node:module";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { operations } from "@maskline/openapi/schema";
import type { PARAMETERS } from "@maskline/openapi/constants";
import type { FieldError } from "../errors.js";

// The spec is the source of truth at run time too: routes are registered by operationId with the method,
// path, auth and validation the document declares, so the server cannot drift from it.
const require = createRequire(import.meta.url);
export const openapiDocument = require("@maskline/openapi/document") as OpenApiDocument;

export type OperationId = keyof operations;
/** `metricsToken` is checked by GET /metrics itself (routes/metrics.ts): its access depends on the configuration. */
/**
 * `consoleSession` is the web console's cookie (http/console-auth.ts). An operation that names it after `apiKey` or
 * `adminToken` (every tenant and operator operation) takes it as an alternative to that credential; one that names
 * it first (the console's own session routes) takes only it.
 */
export type Security = "none" | "apiKey" | "adminToken" | "vobizSignature" | "metricsToken" | "consoleSession";

type ComponentParameters = typeof PARAMETERS;
/** Query parameters (of components.parameters) whose schema has a `default`: validation fills them in. */
type DefaultedQueryName = {
  [P in keyof ComponentParameters]: ComponentParameters[P] extends { in: "query"; default: unknown } ? ComponentParameters[P]["name"] : never;
}[keyof ComponentParameters];
/** A query as a handler receives it: a parameter with a spec default is always there. */
export type WithQueryDefaults<Q> = [Q] extends [never]
  ? never
  : Omit<Q, DefaultedQueryName> & Required<Pick<Q, Extract<keyof Q, DefaultedQueryName>>>;

interface OpenApiParameter {
  $ref?: string;
  name: string;
  in: "path" | "query" | "header";
  required?: boolean;
  schema?: unknown;
}
interface OpenApiOperation {
  operationId: string;
  security?: Array<Record<string, unknown>>;
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content: Record<string, unknown> };
}
export interface OpenApiDocument {
  security?: Array<Record<string, unknown>>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { parameters: Record<string, OpenApiParameter> };
}
interface ParamSlot {
  /** Each parameter's schema: a `$ref` into the document, with the parameter's `default` beside it. */
  props: Record<string, { $ref: string; default?: unknown }>;
  required: string[];
}

export interface OperationSpec {
  id: OperationId;
  method: "get" | "post" | "put" | "patch" | "delete";
  /** Koa-router style: /v1/sessions/:id */
  routePath: string;
  security: Security;
  bodyContentType: "application/json" | "application/x-www-form-urlencoded" | null;
  bodyRequired: boolean;
  acceptsIdempotencyKey: boolean;
  validateBody: ((body: unknown) => FieldError[]) | null;
  validateQuery: (query: Record<string, unknown>) => FieldError[];
  validatePath: (params: Record<string, unknown>) => FieldError[];
  /** Declared headers only (lower-case names); others are not the spec's business. */
  validateHeaders: (headers: Record<string, unknown>) => FieldError[];
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
// useDefaults: a property the request leaves out gets its spec `default` (bodies: the default beside a `$ref` or
// inline; parameters: wherever the parameter's schema declares it, see parameterDefault).
const makeAjv = (doc: OpenApiDocument, coerceTypes: boolean | "array") => {
  const ajv = new Ajv2020({ strict: false, allErrors: true, useDefaults: true, coerceTypes });
  addFormats(ajv);
  // ajv-formats accepts a leap second (23:59:60) that Date cannot hold: a handler would get an Invalid Date and the
  // query a 500. A timestamp is valid only if it is both well formed and a real instant.
  const wellFormed = ajv.formats["date-time"] as { validate: (s: string) => boolean };
  ajv.addFormat("date-time", { type: "string", validate: (s: string) => wellFormed.validate(s) && !Number.isNaN(Date.parse(s)) });
  ajv.addSchema(doc as object, "spec");
  return ajv;
};

const pointer = (...parts: string[]) =>
  "spec#/" + parts.map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

function toFieldErrors(prefix: string, errors: ErrorObject[] | null | undefined): FieldError[] {
  return (errors ?? []).map((e) => {
    let path = `${prefix}${e.instancePath}`;
    let message = e.message ?? "is invalid";
    if (e.keyword === "required") path += `/${(e.params as { missingProperty: string }).missingProperty}`;
    if (e.keyword === "additionalProperties") {
      path += `/${(e.params as { additionalProperty: string }).additionalProperty}`;
      message = "is not an allowed property";
    }
    return { path, message };
  });
}

function compileObject(ajv: Ajv2020, slot: ParamSlot): ValidateFunction {
  return ajv.compile({ type: "object", properties: slot.props, required: slot.required });
}

/** The node a local `$ref` (`#/components/...`) points at. */
function resolveRef(doc: OpenApiDocument, ref: string): unknown {
  if (!ref.startsWith("#/")) throw new Error(`unsupported $ref ${ref}`);
  let node: unknown = doc;
  for (const part of ref.slice(2).split("/")) {
    node = (node as Record<string, unknown> | undefined)?.[part.replaceAll("~1", "/").replaceAll("~0", "~")];
  }
  if (node === undefined) throw new Error(`$ref ${ref} points nowhere`);
  return node;
}

/**
 * A parameter's `default`, following its schema's `$ref`s: ajv fills in a default only from the schema that holds
 * the property, never from one a `$ref` leads to, so the parameter's property must carry it itself.
 */
function parameterDefault(doc: OpenApiDocument, schema: unknown): unknown {
  const seen = new Set<string>();
  let node = schema as { default?: unknown; $ref?: string } | undefined;
  while (node && typeof node === "object") {
    if (node.default !== undefined) return node.default;
    if (typeof node.$ref !== "string" || seen.has(node.$ref)) return undefined;
    seen.add(node.$ref);
    node = resolveRef(doc, node.$ref) as typeof node;
  }
  return undefined;
}

function securityOf(doc: OpenApiDocument, op: OpenApiOperation): Security {
  const sec = op.security ?? doc.security ?? [];
  const name = Object.keys(sec[0] ?? {})[0];
  if (!name) return "none";
  if (name === "apiKey" || name === "adminToken" || name === "vobizSignature" || name === "metricsToken" || name === "consoleSession") return name;
  throw new Error(`operation ${op.operationId} uses unknown security scheme ${name}`);
}

/** Every operation of `doc` with its validators (exported for tests that validate against a changed spec). */
export function buildOperations(doc: OpenApiDocument): Map<OperationId, OperationSpec> {
  // Bodies are validated as sent (no coercion); query and path strings are coerced to their declared types.
  const bodyAjv = makeAjv(doc, false);
  const paramAjv = makeAjv(doc, "array");
  const ops = new Map<OperationId, OperationSpec>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const params: Record<"path" | "query" | "header", ParamSlot> = {
        path: { props: {}, required: [] },
        query: { props: {}, required: [] },
        header: { props: {}, required: [] },
      };
      (op.parameters ?? []).forEach((raw, i) => {
        const refName = raw.$ref?.split("/").pop();
        const param = refName ? doc.components.parameters[refName]! : raw;
        const schemaRef = refName
          ? pointer("components", "parameters", refName, "schema")
          : pointer("paths", path, method, "parameters", String(i), "schema");
        const slot = params[param.in];
        const key = param.in === "header" ? param.name.toLowerCase() : param.name;
        const dflt = parameterDefault(doc, param.schema);
        slot.props[key] = dflt === undefined ? { $ref: schemaRef } : { $ref: schemaRef, default: dflt };
        if (param.required) slot.required.push(key);
      });
      const contentType = op.requestBody
        ? (Object.keys(op.requestBody.content)[0] as OperationSpec["bodyContentType"])
        : null;
      const bodyValidator =
        contentType === "application/json"
          ? bodyAjv.compile({ $ref: pointer("paths", path, method, "requestBody", "content", contentType, "schema") })
          : null;
      const query = compileObject(paramAjv, params.query);
      const pathParams = compileObject(paramAjv, params.path);
      const headerParams = compileObject(paramAjv, params.header);
      const headerNames = Object.keys(params.header.props);
      ops.set(op.operationId as OperationId, {
        id: op.operationId as OperationId,
        method: method as OperationSpec["method"],
        routePath: path.replace(/\{(\w+)\}/g, ":$1"),
        security: securityOf(doc, op),
        bodyContentType: contentType,
        bodyRequired: op.requestBody?.required ?? false,
        acceptsIdempotencyKey: "idempotency-key" in params.header.props,
        validateBody: bodyValidator
          ? (body) => (bodyValidator(body) ? [] : toFieldErrors("/body", bodyValidator.errors))
          : null,
        validateQuery: (q) => (query(q) ? [] : toFieldErrors("/query", query.errors)),
        validatePath: (p) => (pathParams(p) ? [] : toFieldErrors("/path", pathParams.errors)),
        validateHeaders: (h) => {
          const declared = Object.fromEntries(headerNames.filter((n) => h[n] !== undefined).map((n) => [n, h[n]]));
          return headerParams(declared) ? [] : toFieldErrors("/headers", headerParams.errors);
        },
      });
    }
  }
  return ops;
}

export const operationsById: ReadonlyMap<OperationId, OperationSpec> = buildOperations(openapiDocument);
