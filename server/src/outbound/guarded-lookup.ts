/**
 * The `lookup` every delivery connection uses instead of the system's: it resolves through the policy's resolver
 * and, unless private addresses are allowed, refuses the whole answer if any address in it is not public, before
 * the socket connects to anything. Refusing the whole answer (not filtering it) keeps registration and delivery
 * judging a name the same way, and gives a name that mixes public and private addresses nothing to play with.
 */
import type { LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";
import { isPublicAddress } from "./addresses.js";
import type { UrlPolicy } from "./endpoint-url.js";
import { BLOCKED_ADDRESS, DNS_FAILURE, codedError } from "./network-errors.js";

type AllCallback = (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void;

export function guardedLookup(policy: UrlPolicy): LookupFunction {
  return (hostname, options, callback) => {
    const answer = (err: NodeJS.ErrnoException | null, addresses: LookupAddress[] = []) => {
      // net asks for every address (`all`) when it races IPv4 and IPv6 (autoSelectFamily), else for one.
      if (options.all) (callback as unknown as AllCallback)(err, addresses);
      else callback(err, addresses[0]?.address ?? "", addresses[0]?.family ?? 4);
    };
    policy.resolve(hostname).then(
      (resolved) => {
        if (!policy.allowPrivate && resolved.some((a) => !isPublicAddress(a.address))) return answer(codedError(BLOCKED_ADDRESS));
        const family = familyOf(options.family);
        const wanted = family ? resolved.filter((a) => a.family === family) : resolved;
        if (wanted.length === 0) return answer(codedError(DNS_FAILURE));
        answer(null, wanted.map((a) => ({ address: a.address, family: a.family })));
      },
      () => answer(codedError(DNS_FAILURE)),
    );
  };
}

function familyOf(family: number | "IPv4" | "IPv6" | undefined): 4 | 6 | null {
  if (family === 4 || family === "IPv4") return 4;
  if (family === 6 || family === "IPv6") return 6;
  return null;
}
