#!/usr/bin/env node
// Signs a request the way Vobiz signs its callbacks (V3: HMAC-SHA256 of `scheme://host[:port]/path` + "." + nonce, with
// the account's auth token, base64), so a callback can be sent to Maskline by hand. docs/integrating.md shows it in
// use; docs/carrier-protocol.md section 3 has the rules and a test vector. The service's own implementation is
// server/src/vobiz/signature.ts; test/unit/sign-vobiz-request.test.ts holds the two to the same answers.
//
//   node scripts/sign-vobiz-request.mjs --token <auth token> --url <answer URL> [--nonce <digits>] [--form 'From=…&To=…']
//
// Prints the two headers and a curl command that sends the form to the URL with them (a fresh nonce each run unless
// --nonce is given: the service refuses a nonce it has seen).
import { createHmac, randomInt } from "node:crypto";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const DEFAULT_PORTS = { "http:": "80", "https:": "443" };

/** What Vobiz signs: scheme and host lower-cased, default port dropped, the path as written, no query or fragment. */
export function signedBase(url) {
  const match = /^([a-z][a-z0-9+.-]*):\/\/(?:[^@/?#]*@)?([^/?#]*)([^?#]*)/i.exec(url);
  if (!match) throw new TypeError(`not an absolute URL: ${url}`);
  const scheme = match[1].toLowerCase();
  let authority = match[2].toLowerCase();
  const port = /:(\d+)$/.exec(authority)?.[1];
  if (port && DEFAULT_PORTS[`${scheme}:`] === port) authority = authority.slice(0, -port.length - 1);
  return `${scheme}://${authority}${match[3]}`;
}

export function signV3(token, url, nonce) {
  return createHmac("sha256", token).update(`${signedBase(url)}.${nonce}`).digest("base64");
}

const quote = (s) => `'${s.replaceAll("'", `'\\''`)}'`;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: { token: { type: "string" }, url: { type: "string" }, nonce: { type: "string" }, form: { type: "string" } },
  });
  if (!values.token || !values.url) {
    console.error("usage: node scripts/sign-vobiz-request.mjs --token <auth token> --url <answer URL> [--nonce <digits>] [--form 'From=…&To=…']");
    process.exit(2);
  }
  // Vobiz's nonces are 20 digits.
  const nonce = values.nonce ?? Array.from({ length: 20 }, () => randomInt(10)).join("");
  const signature = signV3(values.token, values.url, nonce);
  const form = values.form ?? `CallUUID=${crypto.randomUUID()}&From=%2B919888800001&To=%2B919000000001&Direction=inbound&CallStatus=ringing`;
  console.log(`X-Vobiz-Signature-V3: ${signature}`);
  console.log(`X-Vobiz-Signature-V3-Nonce: ${nonce}`);
  console.log(
    `curl -s -X POST ${quote(values.url)} -H ${quote(`X-Vobiz-Signature-V3: ${signature}`)} ` +
      `-H ${quote(`X-Vobiz-Signature-V3-Nonce: ${nonce}`)} --data ${quote(form)}`,
  );
}
