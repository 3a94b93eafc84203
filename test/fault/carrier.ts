/**
 * The carrier's side: the simulator requests the public URLs the app registration handed out (built from
 * PUBLIC_BASE_URL), and this "load balancer" forwards them to wherever the service listens right now, so the Host
 * the server sees is never the one that was signed, as in production. It also keeps the last response's headers
 * (the simulator reports status and body only; the notices' Retry-After is a header).
 */
import { VobizSimulator } from "../sim/vobiz-simulator.js";
import { AUTH_TOKEN } from "../support/fixtures.js";

export const PUBLIC_BASE_URL = "https://masking.example.test";
/** The carrier gives up on an answer URL after a few seconds; a reply later than this is no reply. */
export const CARRIER_TIMEOUT_MS = 5_000;

export interface CarrierLink {
  fetch: typeof fetch;
  /** Headers of the most recent response (for sequential tests). */
  lastHeaders(): Headers | undefined;
}

export function carrierLink(target: () => string): CarrierLink {
  let last: Headers | undefined;
  const forward: typeof fetch = async (input, init) => {
    const url = String(input);
    if (!url.startsWith(PUBLIC_BASE_URL + "/")) throw new Error(`the carrier was given a non-public URL: ${url}`);
    const res = await fetch(target() + url.slice(PUBLIC_BASE_URL.length), init);
    last = res.headers;
    return res;
  };
  return { fetch: forward, lastHeaders: () => last };
}

export function carrierFor(app: { answerUrl: string; hangupUrl: string }, link: CarrierLink): VobizSimulator {
  return new VobizSimulator({
    authToken: AUTH_TOKEN,
    answerUrl: app.answerUrl,
    hangupUrl: app.hangupUrl,
    fetch: link.fetch,
    timeoutMs: CARRIER_TIMEOUT_MS,
  });
}
