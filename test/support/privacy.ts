import { expect } from "vitest";

/** The forms a real number could leak in: E.164, without "+", and the national part. */
export const numberForms = (e164: string) => [e164, e164.slice(1), e164.slice(3)];

/** Privacy by design, checked: none of these real numbers, in any form, appears in the text (logs, bodies). */
export function expectNoRealNumbers(text: string, realNumbers: Iterable<string>) {
  for (const n of realNumbers) for (const form of numberForms(n)) expect(text, `leaks ${form.slice(0, 3)}…`).not.toContain(form);
}
