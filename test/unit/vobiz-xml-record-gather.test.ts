import { describe, expect, it } from "vitest";
import { parseVobizXml } from "../sim/vobiz-xml.js";

/** How the simulator reads `<Record>` and `<Gather>`, and the protocol breaches it flags in them. */
const ACTION = "https://masking.example.com/v1/vobiz/app_1/pin?k=s3cr3t";
const CALLBACK = "https://masking.example.com/v1/vobiz/app_1/recording?k=s3cr3t";

describe("a <Record>", () => {
  const recordThenDial =
    '<Response><Speak>This call may be recorded.</Speak>' +
    `<Record recordSession="true" maxLength="3600" timeout="15" fileFormat="mp3" callbackUrl="${CALLBACK}" ` +
    'callbackMethod="POST" startOnDialAnswer="true" redirect="false" playBeep="false"/>' +
    '<Dial callerId="+919000000001" timeout="30"><Number>+919888800002</Number></Dial></Response>';

  it("exposes every attribute, typed, from the first Record", () => {
    const parsed = parseVobizXml(recordThenDial);
    expect(parsed.record).toEqual({
      recordSession: true,
      maxLength: 3600,
      timeout: 15,
      fileFormat: "mp3",
      callbackUrl: CALLBACK,
      callbackMethod: "POST",
      startOnDialAnswer: true,
      redirect: false,
      playBeep: false,
    });
    expect(parsed.problems).toEqual([]);
  });

  it("keeps a reply whose Speak and Record come before the Dial a dial: the kind is the call's effect", () => {
    const parsed = parseVobizXml(recordThenDial);
    expect(parsed.kind).toBe("dial");
    expect(parsed.verbs.map((v) => v.name)).toEqual(["Speak", "Record", "Dial"]);
    expect(parsed.dial?.numbers).toEqual(["+919888800002"]);
    expect(parsed.speak).toEqual(["This call may be recorded."]);
  });

  it("lists only the attributes that were written", () => {
    expect(parseVobizXml(`<Response><Record callbackUrl="${CALLBACK}"/></Response>`).record).toEqual({ callbackUrl: CALLBACK });
  });

  it("reads only the first Record", () => {
    const parsed = parseVobizXml('<Response><Record maxLength="10"/><Record maxLength="20"/></Response>');
    expect(parsed.record).toEqual({ maxLength: 10 });
  });

  it("flags a maxLength or timeout that is not a positive integer, and a relative callbackUrl", () => {
    const parsed = parseVobizXml('<Response><Record maxLength="0" timeout="1.5" callbackUrl="/recording"/></Response>');
    expect(parsed.problems).toEqual([
      expect.stringMatching(/<Record> callbackUrl is not an absolute URL: \/recording/),
      expect.stringMatching(/<Record> maxLength is not a positive integer: 0/),
      expect.stringMatching(/<Record> timeout is not a positive integer: 1\.5/),
    ]);
    expect(parsed.record).toEqual({ callbackUrl: "/recording" });
  });

  it("flags a boolean attribute that is neither true nor false, and an unknown fileFormat", () => {
    const parsed = parseVobizXml('<Response><Record recordSession="yes" fileFormat="ogg"/></Response>');
    expect(parsed.problems).toEqual([
      expect.stringMatching(/recordSession must be true\|false, got yes/),
      expect.stringMatching(/fileFormat must be mp3\|wav, got ogg/),
    ]);
  });
});

describe("a <Gather>", () => {
  const gather =
    `<Response><Gather action="${ACTION}" method="POST" inputType="dtmf" numDigits="4" executionTimeout="15" ` +
    'digitEndTimeout="5" finishOnKey="#" redirect="true" log="false"><Speak>Enter your PIN</Speak>' +
    "<Speak>followed by hash.</Speak></Gather><Speak>No input received.</Speak></Response>";

  it("exposes every attribute, typed, with the nested Speak as the prompt", () => {
    const parsed = parseVobizXml(gather);
    expect(parsed.gather).toEqual({
      action: ACTION,
      method: "POST",
      inputType: "dtmf",
      numDigits: 4,
      executionTimeout: 15,
      digitEndTimeout: 5,
      finishOnKey: "#",
      redirect: true,
      log: false,
      prompt: "Enter your PIN followed by hash.",
    });
    expect(parsed.problems).toEqual([]);
  });

  it("is neither a dial nor a rejection, and its nested Speak is not a top-level one", () => {
    const parsed = parseVobizXml(gather);
    expect(parsed.kind).toBe("other");
    expect(parsed.speak).toEqual(["No input received."]);
  });

  it("reads digitEndTimeout auto", () => {
    expect(parseVobizXml(`<Response><Gather action="${ACTION}" digitEndTimeout="auto"/></Response>`).gather).toEqual({
      action: ACTION,
      digitEndTimeout: "auto",
    });
  });

  it("flags a missing or relative action", () => {
    expect(parseVobizXml("<Response><Gather/></Response>").problems).toEqual(["<Gather> requires an action"]);
    expect(parseVobizXml('<Response><Gather action="/pin"/></Response>').problems).toEqual([
      expect.stringMatching(/<Gather> action is not an absolute URL: \/pin/),
    ]);
  });

  it.each([["0"], ["33"], ["four"]])("flags numDigits %s (outside 1-32)", (numDigits) => {
    const parsed = parseVobizXml(`<Response><Gather action="${ACTION}" numDigits="${numDigits}"/></Response>`);
    expect(parsed.problems).toEqual([`<Gather> numDigits must be 1-32, got ${numDigits}`]);
  });

  it.each([["4"], ["61"]])("flags executionTimeout %s (outside 5-60)", (executionTimeout) => {
    const parsed = parseVobizXml(`<Response><Gather action="${ACTION}" executionTimeout="${executionTimeout}"/></Response>`);
    expect(parsed.problems).toEqual([`<Gather> executionTimeout must be 5-60, got ${executionTimeout}`]);
  });

  it("accepts the range's ends", () => {
    for (const attrs of ['numDigits="1" executionTimeout="5"', 'numDigits="32" executionTimeout="60"']) {
      expect(parseVobizXml(`<Response><Gather action="${ACTION}" ${attrs}/></Response>`).problems).toEqual([]);
    }
  });
});

describe("a reply with neither", () => {
  it("has no record or gather field", () => {
    const parsed = parseVobizXml('<Response><Dial callerId="+91900"><Number>+91981</Number></Dial></Response>');
    expect(parsed).not.toHaveProperty("record");
    expect(parsed).not.toHaveProperty("gather");
  });
});
