/** Keep in step with sdk/package.json "version". */
export const VERSION = "0.1.0";
