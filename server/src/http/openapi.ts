import { createRequire } from "node:module";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { operations } from "@maskline/openapi/schema";
import type { FieldError } from "../errors.js";

// The spec is the source of truth at run time too: routes are registered by operationId with the method,
// path, auth and validation the document declares, so the server cannot drift from it.
const require = createRequire(import.meta.url);
export const openapiDocument = require("@maskline/openapi/document") as OpenApiDocument;

export type OperationId = keyof operations;
export type Security = "none" | "apiKey" | "adminToken" | "vobizSignature";

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
interface OpenApiDocument {
  security?: Array<Record<string, unknown>>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { parameters: Record<string, OpenApiParameter> };
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
const makeAjv = (coerceTypes: boolean | "array") => {
  const ajv = new Ajv2020({ strict: false, allErrors: true, useDefaults: true, coerceTypes });
  addFormats(ajv);
  ajv.addSchema(openapiDocument as object, "spec");
  return ajv;
};
// Bodies are validated as sent (no coercion); query and path strings are coerced to their declared types.
const bodyAjv = makeAjv(false);
const paramAjv = makeAjv("array");

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

function compileObject(ajv: Ajv2020, props: Record<string, string>, required: string[]): ValidateFunction {
  const properties = Object.fromEntries(Object.entries(props).map(([name, ref]) => [name, { $ref: ref }]));
  return ajv.compile({ type: "object", properties, required });
}

function securityOf(doc: OpenApiDocument, op: OpenApiOperation): Security {
  const sec = op.security ?? doc.security ?? [];
  const name = Object.keys(sec[0] ?? {})[0];
  if (!name) return "none";
  if (name === "apiKey" || name === "adminToken" || name === "vobizSignature") return name;
  throw new Error(`operation ${op.operationId} uses unknown security scheme ${name}`);
}

function buildOperations(doc: OpenApiDocument): Map<OperationId, OperationSpec> {
  const ops = new Map<OperationId, OperationSpec>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const params: Record<"path" | "query" | "header", { props: Record<string, string>; required: string[] }> = {
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
        slot.props[key] = schemaRef;
        if (param.required) slot.required.push(key);
      });
      const contentType = op.requestBody
        ? (Object.keys(op.requestBody.content)[0] as OperationSpec["bodyContentType"])
        : null;
      const bodyValidator =
        contentType === "application/json"
          ? bodyAjv.compile({ $ref: pointer("paths", path, method, "requestBody", "content", contentType, "schema") })
          : null;
      const query = compileObject(paramAjv, params.query.props, params.query.required);
      const pathParams = compileObject(paramAjv, params.path.props, params.path.required);
      const headerParams = compileObject(paramAjv, params.header.props, params.header.required);
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
