// The facts of the API that code needs as values, not only as types: every enum, default, limit and property list
// of the spec, and the error-code table. gen.mjs writes them to openapi/generated/constants.ts, so the server, the
// SDK and the tests read them from the spec instead of keeping copies.

const LIMIT_KEYWORDS = [
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
];

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const screaming = (name) => name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/[^A-Za-z0-9]+/g, "_").toUpperCase();
const pascal = (name) => name.charAt(0).toUpperCase() + name.slice(1);

/** A TypeScript literal for a JSON value, keys bare where they can be. */
function literal(value, indent = "") {
  if (Array.isArray(value)) {
    if (value.every((v) => !isObject(v) && !Array.isArray(v))) return `[${value.map((v) => literal(v)).join(", ")}]`;
    const inner = indent + "  ";
    return `[\n${value.map((v) => `${inner}${literal(v, inner)},`).join("\n")}\n${indent}]`;
  }
  if (isObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    const inner = indent + "  ";
    const key = (k) => (/^(?:[A-Za-z_$][\w$]*|0|[1-9]\d*)$/.test(k) ? k : JSON.stringify(k));
    const flat = entries.every(([, v]) => !isObject(v) && !Array.isArray(v));
    const oneLine = `{ ${entries.map(([k, v]) => `${key(k)}: ${literal(v)}`).join(", ")} }`;
    if (flat && oneLine.length + indent.length <= 100) return oneLine;
    return `{\n${entries.map(([k, v]) => `${inner}${key(k)}: ${literal(v, inner)},`).join("\n")}\n${indent}}`;
  }
  return JSON.stringify(value);
}

function resolver(spec) {
  return function resolve(schema, seen = new Set()) {
    if (!isObject(schema) || typeof schema.$ref !== "string") return schema;
    const ref = schema.$ref;
    if (!ref.startsWith("#/") || seen.has(ref)) throw new Error(`spec-constants: cannot resolve $ref ${ref}`);
    seen.add(ref);
    let node = spec;
    for (const part of ref.slice(2).split("/")) node = node?.[part.replaceAll("~1", "/").replaceAll("~0", "~")];
    if (node === undefined) throw new Error(`spec-constants: $ref ${ref} points nowhere`);
    return resolve(node, seen);
  };
}

const ownLimits = (schema) =>
  Object.fromEntries(LIMIT_KEYWORDS.filter((k) => isObject(schema) && typeof schema[k] === "number").map((k) => [k, schema[k]]));

/** Limits of a schema and of what its `$ref` chain points at; the nearer schema wins. */
function limitsOf(schema, resolve) {
  const chain = [];
  let node = schema;
  const seen = new Set();
  while (isObject(node)) {
    chain.push(node);
    if (typeof node.$ref !== "string" || seen.has(node.$ref)) break;
    seen.add(node.$ref);
    node = resolve({ $ref: node.$ref });
    if (chain.includes(node)) break;
  }
  return Object.assign({}, ...chain.reverse().map(ownLimits));
}

/** The first `default` along a `$ref` chain (a parameter's schema is often a `$ref` with or without its own). */
function defaultOf(schema, resolve) {
  let node = schema;
  const seen = new Set();
  while (isObject(node)) {
    if (node.default !== undefined) return node.default;
    if (typeof node.$ref !== "string" || seen.has(node.$ref)) return undefined;
    seen.add(node.$ref);
    node = resolve({ $ref: node.$ref });
  }
  return undefined;
}

function errorTable(schemas) {
  const codeSchema = schemas.ErrorCode;
  if (!codeSchema) return null;
  const table = codeSchema["x-error-table"];
  const codes = codeSchema.enum;
  if (!Array.isArray(codes) || !isObject(table)) {
    throw new Error("spec-constants: components.schemas.ErrorCode needs an `enum` and an `x-error-table`");
  }
  const keys = Object.keys(table);
  if (keys.join() !== codes.join()) {
    throw new Error(`spec-constants: ErrorCode x-error-table must list exactly the enum, in its order (enum: ${codes.join(", ")}; table: ${keys.join(", ")})`);
  }
  for (const [code, row] of Object.entries(table)) {
    if (!isObject(row) || !Number.isInteger(row.status) || row.status < 400 || row.status > 599 || typeof row.title !== "string") {
      throw new Error(`spec-constants: x-error-table.${code} needs an integer 4xx/5xx \`status\` and a \`title\``);
    }
  }
  const byStatus = {};
  for (const [code, row] of Object.entries(table)) byStatus[row.status] ??= code;
  return { table: Object.fromEntries(Object.entries(table).map(([c, r]) => [c, { status: r.status, title: r.title }])), byStatus };
}

const MUTATING = new Set(["post", "put", "patch", "delete"]);

/**
 * `x-audit` of every operation. Every operation a tenant or the operator calls to change something must declare one
 * (the carrier's webhooks, signed by the carrier, are not the API's users and declare none): a change added without
 * it fails `pnpm gen`, so none goes unaudited.
 */
function auditedOperations(spec) {
  const audited = {};
  for (const [path, item] of Object.entries(spec.paths ?? {})) {
    for (const [method, op] of Object.entries(item ?? {})) {
      if (!MUTATING.has(method) || !isObject(op)) continue;
      const carrier = Array.isArray(op.security) && op.security.some((s) => isObject(s) && "vobizSignature" in s);
      const audit = op["x-audit"];
      if (carrier) {
        if (audit !== undefined) throw new Error(`spec-constants: ${op.operationId} is a carrier webhook: no x-audit`);
        continue;
      }
      if (!isObject(audit) || typeof audit.action !== "string" || typeof audit.resource !== "string") {
        throw new Error(`spec-constants: ${method.toUpperCase()} ${path} (${op.operationId}) changes something: give it x-audit { action, resource }`);
      }
      audited[op.operationId] = { action: audit.action, resource: audit.resource };
    }
  }
  return audited;
}

/** The text of openapi/generated/constants.ts for a parsed spec. */
export function constantsModule(spec) {
  const resolve = resolver(spec);
  const schemas = spec.components?.schemas ?? {};
  const parameters = spec.components?.parameters ?? {};
  const out = [];
  const emit = (doc, name, value, suffix = " as const;") => out.push(`/** ${doc} */\nexport const ${name} = ${literal(value)}${suffix}`);

  const enums = [];
  const defaults = {};
  const fallbacks = {};
  const properties = {};
  const schemaLimits = {};
  const propertyLimits = {};
  for (const [name, schema] of Object.entries(schemas)) {
    if (!isObject(schema)) continue;
    if (schema.default !== undefined) {
      throw new Error(`spec-constants: put the default of components.schemas.${name} on the properties that use it`);
    }
    if (Array.isArray(schema.enum)) enums.push({ of: `components.schemas.${name}`, type: name, values: schema.enum });
    const limits = ownLimits(schema);
    if (Object.keys(limits).length) schemaLimits[name] = limits;
    if (!isObject(schema.properties)) continue;
    properties[name] = Object.keys(schema.properties);
    for (const [prop, propSchema] of Object.entries(schema.properties)) {
      if (!isObject(propSchema)) continue;
      if (Array.isArray(propSchema.enum)) {
        enums.push({ of: `components.schemas.${name}.properties.${prop}`, type: name + pascal(prop), values: propSchema.enum });
      }
      // Only the property's own `default` (beside a `$ref`, or inline): that is the one request validation fills in.
      if (propSchema.default !== undefined) (defaults[name] ??= {})[prop] = propSchema.default;
      if (propSchema["x-fallback"] !== undefined) (fallbacks[name] ??= {})[prop] = propSchema["x-fallback"];
      const limits = limitsOf(propSchema, resolve);
      if (Object.keys(limits).length) (propertyLimits[name] ??= {})[prop] = limits;
    }
  }

  for (const e of enums) {
    const constName = `${screaming(e.type)}_VALUES`;
    emit(`The values of ${e.of}.`, constName, e.values, ` as const;\nexport type ${e.type} = (typeof ${constName})[number];`);
  }

  const errors = errorTable(schemas);
  if (errors) {
    emit("Every ErrorCode with its HTTP status and problem title (components.schemas.ErrorCode, `x-error-table`).", "ERROR_TABLE", errors.table);
    emit("The first ErrorCode of each HTTP status in ERROR_TABLE: the code of a bare status.", "ERROR_CODE_FOR_STATUS", errors.byStatus);
  }

  emit(
    "Each object schema's own property `default`s, as request validation fills them in (a `$ref`'d schema's default is not one of them).",
    "SCHEMA_DEFAULTS",
    defaults,
  );
  emit("`x-fallback`: what the server uses while a property is unset, without writing it into the resource.", "SCHEMA_FALLBACKS", fallbacks);
  emit("The property names of each object schema, in spec order.", "SCHEMA_PROPERTIES", properties);
  emit("Each component schema's own numeric limits.", "SCHEMA_LIMITS", schemaLimits);
  emit("Each object schema's property limits, its own and those of the schema its `$ref` names.", "PROPERTY_LIMITS", propertyLimits);

  emit(
    "What each change the API makes is recorded as in the audit log: every operation's `x-audit` (action, resource type).",
    "AUDITED_OPERATIONS",
    auditedOperations(spec),
  );

  const params = {};
  for (const [name, param] of Object.entries(parameters)) {
    if (!isObject(param)) continue;
    const entry = { name: param.name, in: param.in, required: param.required === true, ...limitsOf(param.schema, resolve) };
    const dflt = defaultOf(param.schema, resolve);
    if (dflt !== undefined) entry.default = dflt;
    params[name] = entry;
  }
  emit("components.parameters with their schemas' limits and defaults.", "PARAMETERS", params);
  const limit = params.Limit;
  if (limit && typeof limit.default === "number" && typeof limit.maximum === "number") {
    emit(
      "Page size of every list (components.parameters.Limit): used when `limit` is left out, and the most allowed.",
      "PAGE_SIZE",
      { default: limit.default, minimum: limit.minimum ?? 1, maximum: limit.maximum },
    );
  }
  return out.join("\n\n") + "\n";
}
