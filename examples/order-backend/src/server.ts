import { createServer } from "node:http";
import { Maskline } from "@maskline/sdk";
import { createOrderBackend } from "./app.js";

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`order backend: set ${name} (see README.md)`);
    process.exit(1);
  }
  return value;
}

const maskline = new Maskline({ apiKey: required("MASKLINE_API_KEY"), baseUrl: process.env.MASKLINE_URL ?? "http://localhost:8080" });
const port = Number(process.env.PORT ?? 3000);
createServer(createOrderBackend({ maskline, webhookSecret: required("MASKLINE_WEBHOOK_SECRET") })).listen(port, () => {
  console.log(`order backend on http://localhost:${port} (events: POST /webhooks/maskline)`);
});
