/**
 * The baseline: the same framework stack as the server's webhook path (Koa 3, @koa/router, @koa/bodyparser reading
 * the form body) with a route that returns a fixed VobizXML string. No signature check, no database, no Redis.
 * Started as its own process by the bench: `node --import tsx test/bench/bare-koa.ts` with PORT set.
 */
import Koa from "koa";
import Router from "@koa/router";
import { bodyParser } from "@koa/bodyparser";

const XML =
  `<?xml version="1.0" encoding="UTF-8"?>\n<Response>\n` +
  `  <Dial callerId="+919000000002" timeout="30" action="http://127.0.0.1/v1/vobiz/app_x/dial-status" method="POST" redirect="false">\n` +
  `    <Number>+919888800002</Number>\n  </Dial>\n</Response>\n`;

const app = new Koa();
const router = new Router();
router.get("/healthz", (ctx) => {
  ctx.body = { status: "ok" };
});
router.post("/v1/vobiz/:appId/answer", (ctx) => {
  ctx.type = "application/xml";
  ctx.body = XML;
});
app.use(bodyParser({ enableTypes: ["form"], formLimit: "64kb", encoding: "utf-8" }));
app.use(router.routes());

const server = app.listen(Number(process.env.PORT ?? 0), "127.0.0.1");
server.on("listening", () => process.stdout.write(`bare koa listening on ${JSON.stringify(server.address())}\n`));
process.once("SIGTERM", () => server.close(() => process.exit(0)));
process.once("SIGINT", () => server.close(() => process.exit(0)));
