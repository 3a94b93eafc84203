import type { CallDecision } from "@maskline/sdk";

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const time = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

export const formatDateTime = (iso: string | null | undefined) => (iso ? dateTime.format(new Date(iso)) : "—");
export const formatTime = (iso: string | null | undefined) => (iso ? time.format(new Date(iso)) : "—");

/** "3 min ago", "in 2 h": how a person reads recency. */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const diff = Date.parse(iso) - now;
  const abs = Math.abs(diff);
  const [n, unit] =
    abs < 60_000 ? [Math.round(abs / 1000), "s"] : abs < 3_600_000 ? [Math.round(abs / 60_000), "min"] : abs < 86_400_000 ? [Math.round(abs / 3_600_000), "h"] : [Math.round(abs / 86_400_000), "d"];
  return diff < 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  const m = Math.floor(seconds / 60);
  return m ? `${m} min ${seconds % 60} s` : `${seconds} s`;
}

/** Why a call went as it did, in words: the question none of the carrier consoles answers. */
export const DECISIONS: Record<CallDecision, { label: string; why: string; tone: "good" | "bad" | "neutral" }> = {
  bridged: { label: "Bridged", why: "Connected to the other participant.", tone: "good" },
  rejected_unknown_caller: { label: "Unknown caller", why: "The caller is in no open session on this number.", tone: "bad" },
  rejected_session_closed: { label: "Session closed", why: "The session had been closed before the call.", tone: "bad" },
  rejected_session_expired: { label: "Session expired", why: "The session had passed its expiry time.", tone: "bad" },
  rejected_one_way: { label: "One-way session", why: "In a one-way session only the first participant may call.", tone: "bad" },
  rejected_invalid_number: { label: "Invalid number", why: "The caller's number could not be read as a phone number.", tone: "bad" },
  rejected_wrong_pin: { label: "Wrong PIN", why: "No valid PIN was entered within the call's attempts.", tone: "bad" },
  rejected_pin_locked: { label: "PIN locked", why: "The caller is locked out after three wrong PINs in 15 minutes.", tone: "bad" },
  pending: { label: "Pending", why: "Not decided yet (waiting for a PIN, or for the first participant to answer).", tone: "neutral" },
  unavailable: { label: "Unavailable", why: "Maskline could not decide in time; the caller heard the unavailable message.", tone: "bad" },
};

/** Local midnight, as the service expects `since`: "calls today" is the viewer's today. */
export function startOfToday(): string {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d.toISOString();
}

/** "1 number", "3 numbers". */
export const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

/**
 * A tenant's name as a label: the operator API takes any name of 1–200 characters, so one may hold nothing visible
 * (spaces, zero-width or control characters); a link or heading with no text is unusable and unreadable to a screen
 * reader, so such a name is shown as "unnamed tenant".
 */
export function tenantLabel(name: string | null | undefined): string {
  return name && /[\p{L}\p{N}\p{P}\p{S}]/u.test(name) ? name : "unnamed tenant";
}
