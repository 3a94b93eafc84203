/**
 * Stands in for node:crypto in the browser build (vite.config.ts): the SDK's webhook verification needs it, and the
 * console never verifies webhooks. Called anyway, it says why instead of failing obscurely.
 */
function serverOnly(): never {
  throw new Error("Webhook verification runs on a server, not in the console.");
}
export const createHmac = serverOnly;
export const createPublicKey = serverOnly;
export const timingSafeEqual = serverOnly;
export const verify = serverOnly;
export type KeyObject = never;
