import { SCHEMA_FALLBACKS } from "@maskline/openapi/constants";

/**
 * The texts callers hear when a call is not connected: the spec's `x-fallback` of each AppMessages field. Each may
 * be overridden per app (`app.messages`); the fallback is never written into the app.
 */
export const DEFAULT_MESSAGES = Object.freeze(SCHEMA_FALLBACKS.AppMessages);
export type MessageKey = keyof typeof DEFAULT_MESSAGES;
export type AppMessages = Partial<Record<MessageKey, string>>;

/** The app's text for `key`, or the default when it is unset or blank (a blank Speak would say nothing). */
export function messageFor(messages: AppMessages | null | undefined, key: MessageKey): string {
  const custom = messages?.[key];
  return typeof custom === "string" && custom.trim() !== "" ? custom : DEFAULT_MESSAGES[key];
}
