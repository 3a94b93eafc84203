/**
 * Reads a VobizXML reply the way the carrier would (docs/carrier-protocol.md section 2) and classifies it for tests.
 *
 * Kept apart from the simulator so unit tests can check XML the server produced without any HTTP. The parser is a
 * real one (fast-xml-parser, validated first), never a regex: the point is to catch what would make Vobiz drop a call.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";

/**
 * - `dial`: the reply bridges a second leg (whatever comes before the Dial: a Speak, a Record; the kind is the
 *   call's effect);
 * - `reject`: no Dial, and a Hangup ends the call (with or without a Speak before it);
 * - `empty`: `<Response>` with no verbs (the expected reply to end-of-call notices);
 * - `other`: well-formed but none of the above (e.g. only a Speak, or a Gather);
 * - `invalid_xml`: Vobiz would drop the call with hangup cause 8011.
 * The simulator adds `http_error` (7011) for replies it never got to parse.
 */
export type VobizXmlKind = "dial" | "reject" | "empty" | "other" | "invalid_xml";

export interface VobizElement {
  name: string;
  attributes: Record<string, string>;
  /** Concatenated, trimmed text content directly inside this element (entities decoded). */
  text: string;
  children: VobizElement[];
}

export interface DialInfo {
  callerId?: string;
  numbers: string[];
  timeout?: number;
  timeLimit?: number;
  action?: string;
  method?: string;
  redirect?: string;
}

/** The first top-level `<Record>`, as written (absent attributes stay absent: the carrier's defaults apply). */
export interface RecordInfo {
  recordSession?: boolean;
  maxLength?: number;
  timeout?: number;
  fileFormat?: string;
  callbackUrl?: string;
  callbackMethod?: string;
  startOnDialAnswer?: boolean;
  redirect?: boolean;
  playBeep?: boolean;
}

/** The first top-level `<Gather>`, as written; `prompt` is the text of its nested `<Speak>`s. */
export interface GatherInfo {
  action?: string;
  method?: string;
  inputType?: string;
  numDigits?: number;
  executionTimeout?: number;
  /** Seconds, or Plivo's `auto`. */
  digitEndTimeout?: number | "auto";
  finishOnKey?: string;
  redirect?: boolean;
  log?: boolean;
  prompt?: string;
}

export interface ParsedVobizXml {
  kind: VobizXmlKind;
  /** Top-level verbs in document order (empty for invalid XML). */
  verbs: VobizElement[];
  /** From the first `<Dial>`. */
  dial?: DialInfo;
  /** From the first `<Record>`. */
  record?: RecordInfo;
  /** From the first `<Gather>`. */
  gather?: GatherInfo;
  /** Texts of the top-level `<Speak>` verbs, in order. */
  speak?: string[];
  /** `reason` of the first top-level `<Hangup>`. */
  hangupReason?: string;
  /** A `<Hangup>` as the first verb rejects the call without answering it (no billing). */
  hangupFirst?: boolean;
  /** Why the XML is invalid (kind `invalid_xml` only). */
  error?: string;
  /**
   * Breaches of the protocol that a parser alone would not catch but docs/carrier-protocol.md forbids (undocumented Hangup
   * reason, relative URLs, Dial without callerId, reply over 100 KB, ...). Tests should normally expect none.
   */
  problems: string[];
}

/** At most 100 KB of XML per reply. */
export const MAX_XML_BYTES = 100 * 1024;

// Verbs Vobiz documents, plus the Plivo ones it mirrors. Anything else is reported as a problem.
const KNOWN_VERBS = new Set([
  "Dial",
  "Speak",
  "Play",
  "Hangup",
  "Gather",
  "Record",
  "Redirect",
  "Wait",
  "PreAnswer",
  "Conference",
  "DTMF",
  "GetDigits",
  "GetInput",
]);

const HANGUP_REASONS = new Set(["rejected", "busy"]);

// Attribute values and element text kept as strings: "+919000000001" must not become a number.
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

type OrderedNode = Record<string, unknown>;

function toElement(node: OrderedNode): VobizElement | string | null {
  if ("#text" in node) return String(node["#text"]);
  const name = Object.keys(node).find((k) => k !== ":@");
  if (name === undefined) return null;
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries((node[":@"] as Record<string, unknown> | undefined) ?? {})) attributes[k] = String(v);
  const children: VobizElement[] = [];
  let text = "";
  for (const child of (node[name] as OrderedNode[] | undefined) ?? []) {
    const el = toElement(child);
    if (typeof el === "string") text += el;
    else if (el) children.push(el);
  }
  return { name, attributes, text: text.trim(), children };
}

function isAbsoluteHttpUrl(s: string): boolean {
  return /^https?:\/\/[^/?#]+/i.test(s);
}

function positiveInt(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n > 0 ? n : undefined;
}

function intIn(s: string | undefined, min: number, max: number): number | undefined {
  if (s === undefined || !/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= min && n <= max ? n : undefined;
}

function bool(s: string | undefined): boolean | undefined {
  return s === "true" ? true : s === "false" ? false : undefined;
}

function invalid(error: string): ParsedVobizXml {
  return { kind: "invalid_xml", verbs: [], error, problems: [] };
}

function checkVerb(verb: VobizElement, problems: string[]): void {
  const where = `<${verb.name}>`;
  if (!KNOWN_VERBS.has(verb.name)) problems.push(`${where} is not a VobizXML verb`);
  for (const attr of ["action", "callbackUrl"]) {
    const v = verb.attributes[attr];
    if (v !== undefined && !isAbsoluteHttpUrl(v)) problems.push(`${where} ${attr} is not an absolute URL: ${v}`);
  }
  if ((verb.name === "Play" || verb.name === "Redirect") && !isAbsoluteHttpUrl(verb.text)) {
    problems.push(`${where} text is not an absolute URL: ${verb.text}`);
  }
  if (verb.name === "Hangup") {
    const reason = verb.attributes.reason;
    if (reason !== undefined && !HANGUP_REASONS.has(reason)) problems.push(`${where} reason must be rejected|busy, got ${reason}`);
  }
  if (verb.name === "Dial") {
    if (!verb.attributes.callerId) problems.push(`${where} has no callerId (it must be the masking DID)`);
    if (!verb.children.some((c) => c.name === "Number" || c.name === "User")) problems.push(`${where} has no <Number>`);
    for (const attr of ["timeout", "timeLimit"]) {
      const v = verb.attributes[attr];
      if (v !== undefined && positiveInt(v) === undefined) problems.push(`${where} ${attr} is not a positive integer: ${v}`);
    }
  }
  if (verb.name === "Gather") checkGather(verb, problems);
  if (verb.name === "Record") checkRecord(verb, problems);
}

// Plivo's ranges for GetInput/Gather: a DTMF code of 1-32 digits, 5-60 s to enter it.
function checkGather(verb: VobizElement, problems: string[]): void {
  const a = verb.attributes;
  if (!a.action) problems.push("<Gather> requires an action");
  if (a.numDigits !== undefined && intIn(a.numDigits, 1, 32) === undefined) problems.push(`<Gather> numDigits must be 1-32, got ${a.numDigits}`);
  if (a.executionTimeout !== undefined && intIn(a.executionTimeout, 5, 60) === undefined) {
    problems.push(`<Gather> executionTimeout must be 5-60, got ${a.executionTimeout}`);
  }
  for (const attr of ["redirect", "log"]) {
    const v = a[attr];
    if (v !== undefined && bool(v) === undefined) problems.push(`<Gather> ${attr} must be true|false, got ${v}`);
  }
}

function checkRecord(verb: VobizElement, problems: string[]): void {
  const a = verb.attributes;
  for (const attr of ["maxLength", "timeout"]) {
    const v = a[attr];
    if (v !== undefined && positiveInt(v) === undefined) problems.push(`<Record> ${attr} is not a positive integer: ${v}`);
  }
  for (const attr of ["recordSession", "startOnDialAnswer", "redirect", "playBeep"]) {
    const v = a[attr];
    if (v !== undefined && bool(v) === undefined) problems.push(`<Record> ${attr} must be true|false, got ${v}`);
  }
  if (a.fileFormat !== undefined && a.fileFormat !== "mp3" && a.fileFormat !== "wav") problems.push(`<Record> fileFormat must be mp3|wav, got ${a.fileFormat}`);
}

function dialInfo(dial: VobizElement): DialInfo {
  const a = dial.attributes;
  const info: DialInfo = { numbers: dial.children.filter((c) => c.name === "Number").map((c) => c.text) };
  if (a.callerId !== undefined) info.callerId = a.callerId;
  const timeout = positiveInt(a.timeout);
  if (timeout !== undefined) info.timeout = timeout;
  const timeLimit = positiveInt(a.timeLimit);
  if (timeLimit !== undefined) info.timeLimit = timeLimit;
  if (a.action !== undefined) info.action = a.action;
  if (a.method !== undefined) info.method = a.method;
  if (a.redirect !== undefined) info.redirect = a.redirect;
  return info;
}

/** Sets `key` only when the value is defined, so the info objects list exactly what the XML said. */
function put<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

function recordInfo(record: VobizElement): RecordInfo {
  const a = record.attributes;
  const info: RecordInfo = {};
  put(info, "recordSession", bool(a.recordSession));
  put(info, "maxLength", positiveInt(a.maxLength));
  put(info, "timeout", positiveInt(a.timeout));
  put(info, "fileFormat", a.fileFormat);
  put(info, "callbackUrl", a.callbackUrl);
  put(info, "callbackMethod", a.callbackMethod);
  put(info, "startOnDialAnswer", bool(a.startOnDialAnswer));
  put(info, "redirect", bool(a.redirect));
  put(info, "playBeep", bool(a.playBeep));
  return info;
}

function gatherInfo(gather: VobizElement): GatherInfo {
  const a = gather.attributes;
  const info: GatherInfo = {};
  put(info, "action", a.action);
  put(info, "method", a.method);
  put(info, "inputType", a.inputType);
  put(info, "numDigits", positiveInt(a.numDigits));
  put(info, "executionTimeout", positiveInt(a.executionTimeout));
  put(info, "digitEndTimeout", a.digitEndTimeout === "auto" ? "auto" : positiveInt(a.digitEndTimeout));
  put(info, "finishOnKey", a.finishOnKey);
  put(info, "redirect", bool(a.redirect));
  put(info, "log", bool(a.log));
  const prompt = gather.children.filter((c) => c.name === "Speak").map((c) => c.text);
  if (prompt.length > 0) info.prompt = prompt.join(" ");
  return info;
}

/** Validates, parses and classifies one VobizXML reply. Never throws. */
export function parseVobizXml(xml: string): ParsedVobizXml {
  const validation = XMLValidator.validate(xml);
  if (validation !== true) {
    const { code, msg, line, col } = validation.err;
    return invalid(`${code}: ${msg} (line ${line}, column ${col})`);
  }
  let ordered: OrderedNode[];
  try {
    ordered = parser.parse(xml) as OrderedNode[];
  } catch (err) {
    return invalid(`parse error: ${(err as Error).message}`);
  }
  // The validator accepts several top-level elements; a VobizXML document has exactly one, <Response>.
  const roots = ordered.map(toElement).filter((n): n is VobizElement => n !== null && typeof n !== "string");
  if (roots.length !== 1) return invalid(`expected one root element, found ${roots.length}`);
  const root = roots[0]!;
  if (root.name !== "Response") return invalid(`root element is <${root.name}>, not <Response>`);

  const problems: string[] = [];
  const bytes = Buffer.byteLength(xml, "utf8");
  if (bytes > MAX_XML_BYTES) problems.push(`reply is ${bytes} bytes, over the 100 KB limit`);
  if (root.text !== "") problems.push("text directly inside <Response>");
  const verbs = root.children;
  for (const verb of verbs) checkVerb(verb, problems);

  const result: ParsedVobizXml = { kind: "other", verbs, problems };
  const speak = verbs.filter((v) => v.name === "Speak").map((v) => v.text);
  if (speak.length > 0) result.speak = speak;
  const hangup = verbs.find((v) => v.name === "Hangup");
  if (hangup) {
    if (hangup.attributes.reason !== undefined) result.hangupReason = hangup.attributes.reason;
    result.hangupFirst = verbs[0] === hangup;
  }
  const record = verbs.find((v) => v.name === "Record");
  if (record) result.record = recordInfo(record);
  const gather = verbs.find((v) => v.name === "Gather");
  if (gather) result.gather = gatherInfo(gather);
  const dial = verbs.find((v) => v.name === "Dial");
  if (verbs.length === 0) result.kind = "empty";
  else if (dial) {
    result.kind = "dial";
    result.dial = dialInfo(dial);
  } else if (hangup) result.kind = "reject";
  return result;
}
