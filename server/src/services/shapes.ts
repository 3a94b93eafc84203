import type { components } from "@maskline/openapi/schema";

/** Wire types, straight from the generated spec types. */
export type Schemas = components["schemas"];

export const iso = (d: Date) => d.toISOString();
export const isoOrNull = (d: Date | null | undefined) => (d ? d.toISOString() : null);
