/** The text of openapi/generated/constants.ts for a parsed spec. */
export declare function constantsModule(spec: unknown): string;
