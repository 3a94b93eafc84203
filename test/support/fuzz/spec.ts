/**
 * The operations the fuzzer drives, read from the compiled OpenAPI document itself (the same JSON the server
 * validates against), so a new operation is fuzzed the day it is added to the spec.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minProperties?: number;
  maxProperties?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
  writeOnly?: boolean;
};

interface RawParameter {
  $ref?: string;
  name: string;
  in: "path" | "query" | "header";
  required?: boolean;
  schema?: JsonSchema;
}
interface RawOperation {
  operationId: string;
  security?: Array<Record<string, unknown>>;
  parameters?: RawParameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
  responses?: Record<string, unknown>;
}
export interface OpenApiDocument {
  security?: Array<Record<string, unknown>>;
  paths: Record<string, Record<string, RawOperation>>;
  components: { parameters: Record<string, RawParameter>; schemas: Record<string, JsonSchema> };
}

export type Security = "none" | "apiKey" | "adminToken" | "vobizSignature" | "metricsToken" | "consoleSession";

export interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  schema: JsonSchema;
}

export interface Operation {
  operationId: string;
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  /** As the document writes it: /v1/sessions/{id} */
  pathTemplate: string;
  security: Security;
  parameters: Parameter[];
  body: { contentType: string; required: boolean; schema: JsonSchema } | null;
  /** The response statuses the document declares ("200", "404", "502", ...). */
  responses: string[];
}

export const openapiDocument = require("@maskline/openapi/document") as OpenApiDocument;

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

/** The component name a `$ref` points at (`#/components/schemas/PoolName` → PoolName). */
export const refName = (ref: string) => ref.slice(ref.lastIndexOf("/") + 1);

/** Follows `$ref` (components/schemas only, which is all the document uses for schemas). */
export function resolveSchema(schema: JsonSchema, doc: OpenApiDocument = openapiDocument): JsonSchema {
  let current = schema;
  for (let hops = 0; current.$ref; hops++) {
    if (hops > 20) throw new Error(`$ref loop at ${schema.$ref}`);
    const target = doc.components.schemas[refName(current.$ref)];
    if (!target) throw new Error(`unresolvable $ref ${current.$ref}`);
    current = target;
  }
  return current;
}

function securityOf(doc: OpenApiDocument, op: RawOperation): Security {
  const name = Object.keys((op.security ?? doc.security ?? [])[0] ?? {})[0];
  if (!name) return "none";
  if (name === "apiKey" || name === "adminToken" || name === "vobizSignature" || name === "metricsToken" || name === "consoleSession") return name;
  throw new Error(`operation ${op.operationId} uses a security scheme the fuzzer does not know: ${name}`);
}

/** Every operation of the document (paths × methods), in document order. */
export function listOperations(doc: OpenApiDocument = openapiDocument): Operation[] {
  const out: Operation[] = [];
  for (const [pathTemplate, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const parameters = (op.parameters ?? []).map((raw): Parameter => {
        const p = raw.$ref ? doc.components.parameters[refName(raw.$ref)] : raw;
        if (!p) throw new Error(`unresolvable parameter ${raw.$ref}`);
        return { name: p.name, in: p.in, required: Boolean(p.required), schema: p.schema ?? {} };
      });
      const content = op.requestBody ? Object.entries(op.requestBody.content)[0] : undefined;
      out.push({
        operationId: op.operationId,
        method: method.toUpperCase() as Operation["method"],
        pathTemplate,
        security: securityOf(doc, op),
        parameters,
        body: content
          ? { contentType: content[0], required: Boolean(op.requestBody?.required), schema: content[1].schema }
          : null,
        responses: Object.keys(op.responses ?? {}),
      });
    }
  }
  return out;
}

/** Fills a path template; values are inserted as given (already percent-encoded by the caller, or not, on purpose). */
export function fillPath(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no value for path parameter ${name} of ${template}`);
    return v;
  });
}
