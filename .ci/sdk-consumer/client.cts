// The same package from CommonJS: resolved through its "require" condition (dist/index.cjs and index.d.cts).
import { Maskline, NotFoundError, type Session } from "@maskline/sdk";

export async function sessionOrNull(id: string): Promise<Session | null> {
  const maskline = new Maskline({ apiKey: "mk_live_example", baseUrl: "http://localhost:8080" });
  try {
    return await maskline.sessions.get(id);
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}
