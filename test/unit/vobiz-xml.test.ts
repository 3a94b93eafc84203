import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { callActionXml, emptyXml, escapeXml, unavailableReply } from "../../server/src/vobiz/xml.js";

type Bridge = Extract<Parameters<typeof callActionXml>[0], { kind: "bridge" }>;
const dialXml = (input: Omit<Bridge, "kind">) => callActionXml({ kind: "bridge", ...input });
const rejectXml = (message: string) => callActionXml({ kind: "refuse", message });

// A real parser, configured so nothing is coerced: numbers like +919... must stay strings.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
});

type Node = Record<string, unknown>;

function parse(xml: string): Node {
  expect(XMLValidator.validate(xml)).toBe(true);
  return parser.parse(xml) as Node;
}

/** Element names in document order, from the ordered parser, to check e.g. that Hangup comes first. */
function childOrder(xml: string): string[] {
  const ordered = new XMLParser({ preserveOrder: true, ignoreDeclaration: true }).parse(xml) as Node[];
  const response = ordered.find((n) => "Response" in n)!;
  return (response.Response as Node[]).map((n) => Object.keys(n).find((k) => k !== ":@")!);
}

const HOSTILE = `Tom & Jerry <script>"'`;

describe("escapeXml", () => {
  it("escapes the five markup characters", () => {
    expect(escapeXml(`&<>"'`)).toBe("&amp;&lt;&gt;&quot;&apos;");
  });

  it("returns clean text unchanged", () => {
    const s = "This number is not in service. +919000000001 नमस्ते 📞";
    expect(escapeXml(s)).toBe(s);
  });

  it("does not double-escape an existing entity", () => {
    expect(escapeXml("&amp;")).toBe("&amp;amp;");
  });

  it("drops characters XML 1.0 cannot carry, keeping tab, newline and paired surrogates", () => {
    expect(escapeXml("a\u0000b\u0007c\u001Fd\uFFFEe")).toBe("abcde");
    expect(escapeXml("x\uD800y\uDC00z")).toBe("xyz");
    expect(escapeXml("t\tn\nr\r😀")).toBe("t\tn\nr\r😀");
  });

  it("round-trips hostile text through a real parser, as text and as an attribute", () => {
    const xml = `<a b="${escapeXml(HOSTILE)}" c='${escapeXml(HOSTILE)}'>${escapeXml(HOSTILE)}</a>`;
    const a = parse(xml).a as Node;
    expect(a["#text"]).toBe(HOSTILE);
    expect(a["@b"]).toBe(HOSTILE);
    expect(a["@c"]).toBe(HOSTILE);
  });
});

describe("a bridge action", () => {
  const input = {
    callerId: "+919000000002",
    number: "+919888800002",
    timeoutSeconds: 30,
    actionUrl: "https://api.example.com/v1/vobiz/app_123/dial-status",
    timeLimitSeconds: 3600,
  };

  it("produces the documented compact Dial reply", () => {
    expect(dialXml(input)).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="+919000000002" timeout="30" timeLimit="3600" ' +
        'action="https://api.example.com/v1/vobiz/app_123/dial-status" method="POST" redirect="false">' +
        "<Number>+919888800002</Number></Dial></Response>",
    );
  });

  it("parses to one Dial with the masking DID as callerId and one Number", () => {
    const dial = (parse(dialXml(input)).Response as Node).Dial as Node;
    expect(dial).toEqual({
      "@callerId": "+919000000002",
      "@timeout": "30",
      "@timeLimit": "3600",
      "@action": "https://api.example.com/v1/vobiz/app_123/dial-status",
      "@method": "POST",
      "@redirect": "false",
      Number: "+919888800002",
    });
  });

  it("escapes & in the action URL so the reply stays valid", () => {
    const actionUrl = "https://api.example.com/v1/vobiz/app_1/dial-status?k=a&b=<c>\"'";
    const xml = dialXml({ ...input, actionUrl });
    expect(xml).toContain("?k=a&amp;b=&lt;c&gt;&quot;&apos;");
    const dial = (parse(xml).Response as Node).Dial as Node;
    expect(dial["@action"]).toBe(actionUrl);
  });

  it("refuses a timeout that is not a positive integer instead of emitting a bad attribute", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => dialXml({ ...input, timeoutSeconds: bad })).toThrow(RangeError);
      expect(() => dialXml({ ...input, timeLimitSeconds: bad })).toThrow(RangeError);
    }
  });
});

describe("a refusal", () => {
  it("speaks the message and then hangs up with reason rejected", () => {
    const xml = rejectXml("This number is not in service.");
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Speak>This number is not in service.</Speak>' +
        '<Hangup reason="rejected"/></Response>',
    );
    expect(childOrder(xml)).toEqual(["Speak", "Hangup"]);
  });

  it("keeps hostile message text intact and the document valid", () => {
    const response = parse(rejectXml(HOSTILE)).Response as Node;
    expect(response.Speak).toBe(HOSTILE);
    expect(response.Hangup).toEqual({ "@reason": "rejected" });
  });

  it("with no message, rejects with Hangup as the first element (call not answered)", () => {
    const xml = rejectXml("");
    expect(xml).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup reason="rejected"/></Response>');
    expect(childOrder(xml)).toEqual(["Hangup"]);
  });

  it("treats a blank message as no message", () => {
    expect(rejectXml("   ")).toBe(rejectXml(""));
  });
});

describe("emptyXml", () => {
  it("is a declaration and an empty Response", () => {
    const xml = emptyXml();
    expect(xml).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    expect(parse(xml)).toEqual({ Response: "" });
  });
});

describe("the unavailable reply", () => {
  it("speaks the message and hangs up, like a rejection", () => {
    const xml = unavailableReply({ unavailable: "Service temporarily unavailable & please retry <later>." });
    expect(childOrder(xml)).toEqual(["Speak", "Hangup"]);
    const response = parse(xml).Response as Node;
    expect(response.Speak).toBe("Service temporarily unavailable & please retry <later>.");
    expect(response.Hangup).toEqual({ "@reason": "rejected" });
  });
});
